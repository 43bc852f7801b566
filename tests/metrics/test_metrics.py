"""A service's metrics: the runtime's counters, scrape-time gauges, one registry per service."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from evp.metrics import ConsumerLag, OutboxState, Outcome, ServiceMetrics


def scrape(metrics: ServiceMetrics) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Every sample of a render, by sample name and sorted labels."""
    body, _ = metrics.render()
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_render_is_prometheus_text() -> None:
    """render() gives the text exposition and its content type."""
    body, content_type = ServiceMetrics("orders").render()
    assert content_type.startswith("text/plain; version=0.0.4")
    assert b"# TYPE evp_http_requests_total counter" in body


def test_published_counts_by_event_type() -> None:
    """published() counts events by type, under the service's label."""
    metrics = ServiceMetrics("orders")
    metrics.published("OrderPlaced")
    metrics.published("OrderPlaced", count=2)
    got = scrape(metrics)["evp_events_published_total"]
    assert got == {(("event_type", "OrderPlaced"), ("service", "orders")): 3}


def test_handled_counts_outcomes_and_times_handlers() -> None:
    """handled() counts each outcome and times only events a handler ran for."""
    metrics = ServiceMetrics("inventory")
    metrics.handled("inventory", "OrderPlaced", Outcome.HANDLED, 0.004)
    metrics.handled("inventory", "OrderPlaced", Outcome.DUPLICATE, 0.0)
    metrics.handled("inventory", "UserRegistered", Outcome.SKIPPED, 0.0)
    got = scrape(metrics)
    base = (("event_type", "OrderPlaced"), ("group", "inventory"))
    handled = got["evp_events_handled_total"]
    assert handled[(*base, ("outcome", "handled"), ("service", "inventory"))] == 1
    assert handled[(*base, ("outcome", "duplicate"), ("service", "inventory"))] == 1
    assert got["evp_handler_seconds_count"] == {(*base, ("service", "inventory")): 1}
    assert got["evp_handler_seconds_sum"][(*base, ("service", "inventory"))] == pytest.approx(0.004)


def test_failure_counters() -> None:
    """Dead letters, fetch restarts and handler timeouts are counted by group."""
    metrics = ServiceMetrics("payments")
    metrics.dead_lettered("payments", "incompatible_schema")
    metrics.fetch_restarted("payments")
    metrics.handler_timed_out("payments")
    metrics.handler_timed_out("payments")
    got = scrape(metrics)
    group = (("group", "payments"), ("service", "payments"))
    assert got["evp_events_dead_lettered_total"] == {
        (("group", "payments"), ("reason", "incompatible_schema"), ("service", "payments")): 1
    }
    assert got["evp_consumer_fetch_restarts_total"] == {group: 1}
    assert got["evp_handler_timeouts_total"] == {group: 2}


def test_outbox_gauges_are_read_at_scrape_time() -> None:
    """Outbox lag and parked streams come from the relay's callable when scraped, summed."""
    metrics = ServiceMetrics("orders")
    state = OutboxState(lag_events=5, parked_streams=1)
    metrics.watch_outbox(lambda: state)
    metrics.watch_outbox(lambda: OutboxState(lag_events=2, parked_streams=0))
    assert scrape(metrics)["evp_outbox_lag_events"] == {(("service", "orders"),): 7}
    state = OutboxState(lag_events=0, parked_streams=0)
    got = scrape(metrics)
    assert got["evp_outbox_lag_events"] == {(("service", "orders"),): 2}
    assert got["evp_outbox_parked_streams"] == {(("service", "orders"),): 0}


def test_no_outbox_means_no_outbox_sample() -> None:
    """A service without a relay exposes no outbox lag rather than a false zero."""
    assert "evp_outbox_lag_events" not in scrape(ServiceMetrics("analytics"))


def test_consumer_lag_per_partition() -> None:
    """Consumer lag is one gauge sample per group, topic and partition."""
    metrics = ServiceMetrics("analytics")
    metrics.watch_consumer_lag(
        lambda: [
            ConsumerLag("analytics", "shop.orders", 0, 12),
            ConsumerLag("analytics", "shop.orders", 1, 0),
        ]
    )
    got = scrape(metrics)["evp_consumer_lag_messages"]
    partition_0 = (
        ("group", "analytics"),
        ("partition", "0"),
        ("service", "analytics"),
        ("topic", "shop.orders"),
    )
    assert got[partition_0] == 12
    assert len(got) == 2


def test_two_services_do_not_clash() -> None:
    """Two ServiceMetrics in one process keep separate registries and counts."""
    orders, payments = ServiceMetrics("orders"), ServiceMetrics("payments")
    orders.published("OrderPlaced")
    assert scrape(orders)["evp_events_published_total"] == {
        (("event_type", "OrderPlaced"), ("service", "orders")): 1
    }
    assert scrape(payments).get("evp_events_published_total", {}) == {}


def test_a_second_instance_of_one_service_starts_at_zero() -> None:
    """Two instances named alike (tests restarting a service) do not share counts."""
    ServiceMetrics("users").published("UserRegistered")
    assert scrape(ServiceMetrics("users")).get("evp_events_published_total", {}) == {}
