"""The analytics service on real Kafka, registry and Postgres: figures, replay, access."""

from __future__ import annotations

import asyncio
import collections
import datetime
import math
from collections.abc import Callable

import pytest

from evp.avro import Event
from evp.cli.main import main
from evp.events import OrderPlaced
from evp.messaging import MessagingSettings
from evp.service import ServiceSettings
from evp.service.testing import RunningService
from evp.testing.samples import order_cancelled, order_placed, user_registered
from evp.web import Access, Role, route_access
from shop.analytics.domain import CONSUMED
from shop.analytics.projections import OrderFacts
from tests.messaging.probes import topic_messages

from .shop_history import (
    ADMIN,
    DURATIONS,
    analytics,
    at,
    bearer,
    caught_up,
    get,
    history,
    order_confirmed,
    publish,
    relayed,
)

Settings = Callable[[str], ServiceSettings]


def percentile(values: list[float], fraction: float) -> float:
    """The continuous percentile (linear between the closest ranks), as SQL's percentile_cont."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * fraction
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


async def test_the_summary_adds_up_the_shops_history(
    settings_for: Settings, messaging_settings: MessagingSettings
) -> None:
    """Orders by outcome and reason, revenue per currency, conversion and saga durations."""
    events = history()
    async with analytics(settings_for("analytics")) as running:
        await publish(messaging_settings, events)
        await running.wait_for(lambda: caught_up(running, len(events)))
        summary = await get(running, "/analytics/summary")
    assert summary["orders"] == {
        "placed": 7,
        "confirmed": 3,
        "cancelled": 3,
        "cancelled_by_reason": {"OUT_OF_STOCK": 1, "PAYMENT_FAILED": 2},
    }
    assert summary["revenue"] == {"EUR": "174.48", "GBP": "50.00"}
    assert summary["conversion"] == "0.4286"
    assert summary["saga_duration_seconds"]["count"] == 6
    assert summary["events_per_minute"] == []


async def test_saga_duration_percentiles_match_a_reference(
    settings_for: Settings, messaging_settings: MessagingSettings
) -> None:
    """p50, p95 and p99 from placement to the saga's end equal percentile_cont's definition."""
    events = history()
    async with analytics(settings_for("analytics")) as running:
        await publish(messaging_settings, events)
        await running.wait_for(lambda: caught_up(running, len(events)))
        durations = (await get(running, "/analytics/summary"))["saga_duration_seconds"]
    assert durations == {
        "p50": pytest.approx(percentile(DURATIONS, 0.5)),
        "p95": pytest.approx(percentile(DURATIONS, 0.95)),
        "p99": pytest.approx(percentile(DURATIONS, 0.99)),
        "count": len(DURATIONS),
    }
    assert durations["p50"] == pytest.approx(16.25)


async def test_the_daily_report_has_one_row_per_day(
    settings_for: Settings, messaging_settings: MessagingSettings
) -> None:
    """Placements count on their day, saga ends on theirs, and quiet days show zeros."""
    events = history()
    async with analytics(settings_for("analytics")) as running:
        await publish(messaging_settings, events)
        await running.wait_for(lambda: caught_up(running, len(events)))
        report = await get(
            running, "/analytics/reports/daily", **{"from": "2026-02-28", "to": "2026-03-04"}
        )
    quiet = {"placed": 0, "confirmed": 0, "cancelled": 0, "revenue": {}}
    assert report == {
        "from": "2026-02-28",
        "to": "2026-03-04",
        "days": [
            {"day": "2026-02-28", **quiet},
            {
                "day": "2026-03-01",
                "placed": 3,
                "confirmed": 2,
                "cancelled": 1,
                "revenue": {"EUR": "174.48"},
            },
            {
                "day": "2026-03-02",
                "placed": 3,
                "confirmed": 1,
                "cancelled": 1,
                "revenue": {"GBP": "50.00"},
            },
            {"day": "2026-03-03", "placed": 1, "confirmed": 0, "cancelled": 1, "revenue": {}},
            {"day": "2026-03-04", **quiet},
        ],
    }


async def test_events_per_minute_cover_the_last_minutes_asked_for(
    settings_for: Settings, messaging_settings: MessagingSettings
) -> None:
    """Events count in the minute they happened, within the window the query asks for."""
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    recent = now - datetime.timedelta(minutes=5)
    earlier = now - datetime.timedelta(hours=3)
    events: list[Event] = [
        at(user_registered(), recent),
        at(user_registered(), recent),
        at(order_placed(), recent),
        at(order_placed(), earlier),
    ]
    async with analytics(settings_for("analytics")) as running:
        await publish(messaging_settings, events)
        await running.wait_for(lambda: caught_up(running, len(events)))
        last_hour = (await get(running, "/analytics/summary"))["events_per_minute"]
        last_four_hours = (await get(running, "/analytics/summary", minutes=240))[
            "events_per_minute"
        ]

    def minute(moment: datetime.datetime) -> str:
        return moment.replace(second=0).isoformat().replace("+00:00", "Z")

    recent_counts = [
        {"minute": minute(recent), "event_type": OrderPlaced.FULL_NAME, "count": 1},
        {"minute": minute(recent), "event_type": "shop.users.UserRegistered", "count": 2},
    ]
    assert last_hour == recent_counts
    assert last_four_hours == [
        {"minute": minute(earlier), "event_type": OrderPlaced.FULL_NAME, "count": 1},
        *recent_counts,
    ]


async def test_a_redelivered_event_changes_nothing(
    settings_for: Settings, messaging_settings: MessagingSettings
) -> None:
    """Publishing the same events again (same ids) leaves the store and the figures as they were."""
    events = history()
    async with analytics(settings_for("analytics")) as running:
        await publish(messaging_settings, events)
        await running.wait_for(lambda: caught_up(running, len(events)))
        before = await get(running, "/analytics/summary")
        await publish(messaging_settings, events)
        await running.wait_for(lambda: _duplicates(running) == len(events))
        after = await get(running, "/analytics/summary")
        stored = await running.runtime.recorder.last_position()
    assert after == before
    assert stored == len(events)


def _duplicates(running: RunningService) -> float:
    registry = running.runtime.metrics.registry
    return sum(
        registry.get_sample_value(
            "evp_events_handled_total",
            {
                "service": "analytics",
                "group": "analytics",
                "outcome": "duplicate",
                "event_type": t.FULL_NAME,
            },
        )
        or 0.0
        for t in CONSUMED
    )


async def test_replay_rebuilds_a_wiped_read_model(
    settings_for: Settings,
    messaging_settings: MessagingSettings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`evp replay --projection order_facts` rebuilds the same figures from the kept events."""
    events = history()
    async with analytics(settings_for("analytics")) as running:
        await publish(messaging_settings, events)
        await running.wait_for(lambda: caught_up(running, len(events)))
        before = await get(running, "/analytics/summary")
        await running.runtime.recorder.pool.execute("DELETE FROM order_facts")
        wiped = await get(running, "/analytics/summary")
        argv = [
            "replay",
            "--service",
            "analytics",
            "--projection",
            "order_facts",
            "--database-url",
            running.runtime.database_url,
        ]
        # The CLI runs its own event loop, so off this one.
        code = await asyncio.to_thread(main, argv)
        after = await get(running, "/analytics/summary")
    assert wiped["orders"]["placed"] == 0
    assert code == 0
    assert after == before
    folded = sum(event.FULL_NAME in OrderFacts.event_types for event in events)
    assert f"rebuilt analytics/order_facts from {folded} events" in capsys.readouterr().out


async def test_nothing_analytics_keeps_is_published(
    settings_for: Settings,
    messaging_settings: MessagingSettings,
    kafka_bootstrap_servers: str,
) -> None:
    """The relay goes past the kept copies, and no topic holds more than was published."""
    events = history()
    async with analytics(settings_for("analytics")) as running:
        await publish(messaging_settings, events)
        await running.wait_for(lambda: caught_up(running, len(events)))
        await running.wait_for(lambda: relayed(running))
    published = collections.Counter(event.TOPIC for event in events)
    topics = {event.TOPIC for event in CONSUMED}
    found = {
        topic: len(
            await asyncio.to_thread(
                topic_messages, kafka_bootstrap_servers, messaging_settings.topic_prefix + topic
            )
        )
        for topic in topics
    }
    assert found == {topic: published.get(topic, 0) for topic in topics}


async def test_only_admins_see_the_figures(settings_for: Settings) -> None:
    """Every route is admin-only: a customer gets 403, a caller without a token 401."""
    async with analytics(settings_for("analytics")) as running:
        levels = route_access(running.app)
        answers = {
            (path, who): (await running.http.get(path, params=params, headers=headers)).status_code
            for path, params in (
                ("/analytics/summary", {}),
                ("/analytics/reports/daily", {"from": "2026-03-01", "to": "2026-03-02"}),
            )
            for who, headers in (
                ("admin", ADMIN),
                ("customer", bearer(Role.CUSTOMER)),
                ("nobody", {}),
            )
        }
    analytics_routes = {route: level for route, level in levels.items() if "/analytics" in route[1]}
    assert set(analytics_routes.values()) == {Access.ADMIN}
    assert len(analytics_routes) == 2
    assert answers == {
        ("/analytics/summary", "admin"): 200,
        ("/analytics/summary", "customer"): 403,
        ("/analytics/summary", "nobody"): 401,
        ("/analytics/reports/daily", "admin"): 200,
        ("/analytics/reports/daily", "customer"): 403,
        ("/analytics/reports/daily", "nobody"): 401,
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13-01", "to": "2026-03-02"}, "query.from"),
        ({"from": "2026-03-01", "to": "tomorrow"}, "query.to"),
        ({"to": "2026-03-02"}, "query.from"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "query.to"),
        ({"from": "2025-01-01", "to": "2026-01-02"}, "query.to"),
    ],
    ids=["bad-from", "bad-to", "no-from", "from-after-to", "too-long"],
)
async def test_a_bad_report_range_is_a_422_naming_the_field(
    settings_for: Settings, params: dict[str, str], field: str
) -> None:
    """Malformed dates, a reversed range or one over 366 days are refused, naming the field."""
    async with analytics(settings_for("analytics")) as running:
        response = await running.http.get("/analytics/reports/daily", params=params, headers=ADMIN)
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_a_bad_window_of_minutes_is_a_422(settings_for: Settings) -> None:
    """The summary's window is 1 to 1440 minutes."""
    async with analytics(settings_for("analytics")) as running:
        response = await running.http.get(
            "/analytics/summary", params={"minutes": 0}, headers=ADMIN
        )
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["query.minutes"]


async def test_the_longest_and_the_last_ranges_are_served(settings_for: Settings) -> None:
    """A leap year's 366 days is the longest range; the last day a date can name works too."""
    async with analytics(settings_for("analytics")) as running:
        report = await get(
            running, "/analytics/reports/daily", **{"from": "2028-01-01", "to": "2028-12-31"}
        )
        last = await get(
            running, "/analytics/reports/daily", **{"from": "9999-12-31", "to": "9999-12-31"}
        )
    assert len(report["days"]) == 366
    assert [day["day"] for day in last["days"]] == ["9999-12-31"]


async def test_the_first_end_of_a_saga_is_its_end(
    settings_for: Settings, messaging_settings: MessagingSettings
) -> None:
    """Of two terminal events the one that happened first counts, whichever arrives first."""
    start = datetime.datetime(2026, 3, 1, 9, tzinfo=datetime.UTC)
    first, second = at(order_placed(), start), at(order_placed(), start)
    events: list[Event] = [
        first,
        at(order_confirmed(first), start + datetime.timedelta(seconds=10)),
        at(order_cancelled(order_id=first.order_id), start + datetime.timedelta(seconds=60)),
        second,
        at(order_cancelled(order_id=second.order_id), start + datetime.timedelta(seconds=60)),
        at(order_confirmed(second), start + datetime.timedelta(seconds=10)),
    ]
    async with analytics(settings_for("analytics")) as running:
        await publish(messaging_settings, events)
        await running.wait_for(lambda: caught_up(running, len(events)))
        summary = await get(running, "/analytics/summary")
    assert summary["orders"]["confirmed"] == 2
    assert summary["orders"]["cancelled"] == 0
    assert summary["saga_duration_seconds"]["p99"] == pytest.approx(10.0)
