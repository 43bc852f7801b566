"""Services on the kit, running on real Kafka, registry and Postgres: the saga's first step."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Consumer, KafkaException
from fastapi import APIRouter

from evp.demo.services import orders, payments
from evp.events import OrderConfirmed, OrderPlaced, PaymentProcessed
from evp.eventstore.outbox import DEFAULT_RELAY_NAME
from evp.eventstore.postgres import PostgresRecorder
from evp.eventstore.recorder import NewEvent
from evp.messaging import EventBus, MessagingSettings
from evp.messaging import subscriber as subscriber_module
from evp.service import HandlerContext, Service, ServiceRuntime, ServiceSettings
from evp.service.testing import RunningService, running_service
from evp.testing.samples import order_placed
from evp.web import CurrentUser, KeySet, Role, TokenIssuer, TokenVerifier
from evp.web.logs import current_log_context

Settings = Callable[[str], ServiceSettings]
ORDER = {
    "user_id": "6c1f6e0e-7d0a-4a59-9f5f-0d5e4c9f2a11",
    "currency": "EUR",
    "lines": [{"sku": "BOOK-1", "quantity": 2, "unit_price": "10.00"}],
}


async def _confirmed(service: RunningService, order_id: str) -> bool:
    response = await service.http.get(f"/orders/{order_id}")
    return bool(response.json()["status"] == "confirmed")


async def _events(service: RunningService, kind: type[Any]) -> list[Any]:
    return [r.event for r in await service.runtime.store.read_all(0) if isinstance(r.event, kind)]


def _handled(service: RunningService, group: str, outcome: str) -> float:
    value = service.runtime.metrics.registry.get_sample_value(
        "evp_events_handled_total",
        {
            "service": service.runtime.service.name,
            "group": group,
            "outcome": outcome,
            "event_type": OrderPlaced.FULL_NAME,
        },
    )
    return value or 0.0


async def test_an_order_placed_over_http_is_paid_and_confirmed(settings_for: Settings) -> None:
    """The order's event crosses both outboxes and both handlers; each runs once."""
    async with (
        running_service(orders, settings_for("orders")) as shop,
        running_service(payments, settings_for("payments")) as bank,
    ):
        response = await shop.http.post("/orders", json=ORDER)
        assert response.status_code == 201
        order_id = response.json()["order_id"]
        await shop.wait_for(lambda: _confirmed(shop, order_id))
        paid = await _events(bank, PaymentProcessed)
        confirmed = await _events(shop, OrderConfirmed)
    assert [p.order_id for p in paid] == [uuid.UUID(order_id)]
    assert [c.order_id for c in confirmed] == [uuid.UUID(order_id)]


async def test_a_handler_that_fails_after_appending_stores_nothing_until_it_succeeds(
    settings_for: Settings,
) -> None:
    """Handled and emitted commit together: a failed attempt leaves no event behind."""
    flaky = Service("flaky", publishes=(PaymentProcessed,))
    attempts: list[int] = []

    @flaky.handles(OrderPlaced, retries=2)
    async def pay(event: OrderPlaced, context: HandlerContext) -> None:
        attempts.append(context.message.attempt)
        await payments_handler(event, context)
        if len(attempts) == 1:
            raise ConnectionError("the payment provider hung up after we stored")

    async with (
        running_service(orders, settings_for("orders")) as shop,
        running_service(flaky, settings_for("flaky")) as bank,
    ):
        await shop.http.post("/orders", json=ORDER)
        await bank.wait_for(lambda: _handled(bank, "flaky", "handled") == 1)
        paid = await _events(bank, PaymentProcessed)
    assert attempts == [1, 2]
    assert len(paid) == 1


async def payments_handler(event: OrderPlaced, context: HandlerContext) -> None:
    """The demo's payment handler, called from a test's own service."""
    from evp.demo.services import take_payment

    await take_payment(event, context)


async def test_readiness_reports_every_part(settings_for: Settings) -> None:
    """A running service is ready, and the body names each part it checked."""
    async with running_service(payments, settings_for("payments")) as bank:
        response = await bank.http.get("/health/ready")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ready"
    assert set(body["checks"]) == {
        "database",
        "kafka",
        "registry",
        "outbox",
        "consumers",
        "projections",
        "tasks",
    }
    assert all(check["ok"] for check in body["checks"].values())


async def test_readiness_names_a_consumer_whose_fetching_fails(
    settings_for: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a consumer's fetch loop is failing the service is not ready, and says why."""

    class _AlwaysFailing(Consumer):
        def consume(self, *args: Any, **kwargs: Any) -> Any:
            raise KafkaException("simulated broken consumer")

    monkeypatch.setattr(subscriber_module, "Consumer", _AlwaysFailing)
    async with running_service(payments, settings_for("payments"), assigned=False) as bank:
        (subscriber,) = bank.runtime.bus.subscribers
        await bank.wait_for(lambda: subscriber.fetch_restarts > 0)
        response = await bank.http.get("/health/ready")
    checks = response.json()["checks"]
    assert response.status_code == 503
    assert not checks["consumers"]["ok"]
    assert "simulated broken consumer" in checks["consumers"]["detail"]
    assert checks["database"]["ok"]
    restarts = bank.runtime.metrics.registry.get_sample_value(
        "evp_consumer_fetch_restarts_total", {"service": "payments", "group": "payments"}
    )
    assert restarts is not None
    assert restarts >= 1


async def test_metrics_show_what_the_service_did(settings_for: Settings) -> None:
    """/metrics counts requests, published events, handled events and the outbox lag."""
    async with (
        running_service(orders, settings_for("orders")) as shop,
        running_service(payments, settings_for("payments")) as bank,
    ):
        order_id = (await shop.http.post("/orders", json=ORDER)).json()["order_id"]
        await shop.wait_for(lambda: _confirmed(shop, order_id))
        text = (await bank.http.get("/metrics")).text
        shop_text = (await shop.http.get("/metrics")).text
    assert 'evp_events_handled_total{event_type="shop.orders.OrderPlaced"' in text
    assert "evp_outbox_lag_events" in text
    assert 'evp_events_published_total{event_type="shop.orders.OrderPlaced"' in shop_text
    assert 'route="/orders"' in shop_text


async def test_the_openapi_document_lists_the_declared_routes(settings_for: Settings) -> None:
    """/openapi.json is built from the routes the service declared."""
    async with running_service(orders, settings_for("orders"), assigned=False) as shop:
        document = (await shop.http.get("/openapi.json")).json()
    assert document["info"]["title"] == "orders"
    assert {"/orders", "/orders/{order_id}"} <= set(document["paths"])


async def test_a_bad_request_names_each_bad_field(settings_for: Settings) -> None:
    """A body with two bad fields gets one problem response naming both."""
    async with running_service(orders, settings_for("orders"), assigned=False) as shop:
        response = await shop.http.post(
            "/orders", json={**ORDER, "currency": "XXX", "lines": [{"sku": "A", "quantity": 0}]}
        )
    fields = {error["field"] for error in response.json()["errors"]}
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {"body.currency", "body.lines.0.quantity", "body.lines.0.unit_price"} <= fields


async def test_an_unknown_order_is_a_404_problem(settings_for: Settings) -> None:
    """A platform error raised by a route maps to its status through the one table."""
    async with running_service(orders, settings_for("orders"), assigned=False) as shop:
        response = await shop.http.get(f"/orders/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_handler_logs_with_the_flow_of_its_event(settings_for: Settings) -> None:
    """While a handler runs, log lines carry its event's correlation id as the trace."""
    seen: list[tuple[str | None, str | None]] = []
    logging_service = Service("auditor")

    @logging_service.handles(OrderPlaced)
    async def audit(event: OrderPlaced, context: HandlerContext) -> None:
        current = current_log_context()
        seen.append((current.correlation_id, current.trace_id))

    async with (
        running_service(orders, settings_for("orders")) as shop,
        running_service(logging_service, settings_for("auditor")) as auditor,
    ):
        await shop.http.post("/orders", json=ORDER)
        await auditor.wait_for(lambda: bool(seen))
        (placed,) = await _events(shop, OrderPlaced)
    flow = placed.envelope.correlation_id
    assert seen == [(str(flow), flow.hex)]


async def test_stopping_lets_a_running_handler_finish_and_relays_what_it_stored(
    settings_for: Settings,
) -> None:
    """Shutdown stops the consumers first: the handler in flight commits, and its event is
    published before the producer closes."""
    started, release = asyncio.Event(), asyncio.Event()
    slow = Service("slow", publishes=(PaymentProcessed,))

    @slow.handles(OrderPlaced)
    async def pay(event: OrderPlaced, context: HandlerContext) -> None:
        started.set()
        await release.wait()
        await payments_handler(event, context)

    async with running_service(orders, settings_for("orders")) as shop:
        bank_settings = settings_for("slow")
        async with running_service(slow, bank_settings):
            await shop.http.post("/orders", json=ORDER)
            await asyncio.wait_for(started.wait(), 15)
            asyncio.get_running_loop().call_later(0.3, release.set)
        # Stopped: the handler finished first, and the relay drained what it stored.
        recorder = await PostgresRecorder.connect(bank_settings.database.url or "")
        try:
            stored = await recorder.read_all()
            checkpoint = await recorder.checkpoint(DEFAULT_RELAY_NAME)
        finally:
            await recorder.close()
    assert [e.event_type for e in stored] == [PaymentProcessed.FULL_NAME]
    assert checkpoint == stored[-1].position


async def test_without_a_database_url_a_service_starts_its_own_postgres(
    settings_for: Settings, tmp_path: Path
) -> None:
    """No <SERVICE>_DATABASE_URL: an embedded Postgres starts inside the running loop."""
    settings = settings_for("payments")
    database = dataclasses.replace(settings.database, url=None, data_dir=tmp_path / "payments")
    async with running_service(payments, settings.replace(database=database)) as bank:
        ready = await bank.http.get("/health/ready")
        url = bank.runtime.database_url
    assert ready.status_code == 200
    assert (tmp_path / "payments" / "postgres").is_dir()
    assert url.split("?")[0].endswith("/payments")


async def test_a_parked_stream_shows_in_readiness_and_metrics(settings_for: Settings) -> None:
    """An event that can never be published parks its stream; the service says so."""
    async with running_service(orders, settings_for("orders")) as shop:
        gone = NewEvent(
            event_id=uuid.uuid4(),
            event_type="shop.orders.OrderTeleported",  # no generated class: cannot be routed
            data=b"\x00\x00\x00\x00\x01",
            correlation_id=uuid.uuid4(),
        )
        await shop.runtime.recorder.append("order-gone", 0, [gone])
        await shop.wait_for(lambda: _parked_gauge(shop) == 1)
        ready = (await shop.http.get("/health/ready")).json()
    assert "order-gone" in ready["checks"]["outbox"]["detail"]
    assert "evp outbox list" in ready["checks"]["outbox"]["detail"]


def _parked_gauge(service: RunningService) -> float:
    value = service.runtime.metrics.registry.get_sample_value(
        "evp_outbox_parked_streams", {"service": service.runtime.service.name}
    )
    return value or 0.0


async def test_a_service_can_also_listen_on_a_real_socket(settings_for: Settings) -> None:
    """serve_http gives a URL other processes (or a JWKS client) can reach."""
    async with running_service(payments, settings_for("payments"), serve_http=True) as bank:
        assert bank.url is not None
        async with httpx.AsyncClient(base_url=bank.url) as client:
            response = await client.get("/health/live")
    assert response.status_code == 200


async def test_a_given_verifier_checks_the_bearer_tokens_of_user_routes(
    settings_for: Settings,
) -> None:
    """A test's own key set signs tokens the service accepts; no token is a 401."""
    keys = KeySet.generate()
    issuer = TokenIssuer(keys, issuer="evp-users", audience="evp")
    verifier = TokenVerifier.local(keys, issuer="evp-users", audience="evp")
    private = Service("private")
    router = APIRouter()

    @router.get("/me")
    async def me(user: CurrentUser) -> dict[str, str]:
        return {"user_id": str(user.user_id)}

    private.include(router)
    user_id = uuid.uuid4()
    token = issuer.issue(user_id, "ada@example.com", Role.CUSTOMER).access_token
    async with running_service(
        private, settings_for("private"), verifier=verifier, assigned=False
    ) as running:
        anonymous = await running.http.get("/me")
        known = await running.http.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert anonymous.status_code == 401
    assert known.json() == {"user_id": str(user_id)}


async def test_background_tasks_run_with_the_service_and_stop_with_it(
    settings_for: Settings,
) -> None:
    """A declared background task runs after start-up, and returns once the kit says stop."""
    ticks: list[int] = []
    stopped = asyncio.Event()
    ticking = Service("ticking")

    @ticking.background
    async def tick(runtime: ServiceRuntime, stop: asyncio.Event) -> None:
        while not stop.is_set():
            ticks.append(1)
            await asyncio.sleep(0.01)
        stopped.set()

    async with running_service(ticking, settings_for("ticking"), assigned=False) as running:
        await running.wait_for(lambda: len(ticks) >= 3)
        ready = (await running.http.get("/health/ready")).json()
    assert stopped.is_set()
    assert ready["checks"]["tasks"] == {"ok": True, "detail": "1 running"}


async def test_a_background_task_that_ended_makes_the_service_not_ready(
    settings_for: Settings,
) -> None:
    """A task that died is named in the readiness body."""
    broken = Service("broken")

    @broken.background
    async def crash(runtime: ServiceRuntime, stop: asyncio.Event) -> None:
        raise RuntimeError("poller crashed")

    async with running_service(broken, settings_for("broken"), assigned=False) as running:
        await asyncio.sleep(0.05)
        response = await running.http.get("/health/ready")
    assert response.status_code == 503
    assert "crash" in response.json()["checks"]["tasks"]["detail"]


async def test_no_handler_runs_before_the_start_up_hooks_have_run(
    settings_for: Settings, messaging_settings: MessagingSettings
) -> None:
    """Consumers join their groups only after the hooks set the service up."""
    seen: list[bool] = []
    careful = Service("careful")

    @careful.on_startup
    async def prepare(runtime: ServiceRuntime) -> None:
        await asyncio.sleep(0.5)  # slow set-up: a handler running meanwhile would see none
        runtime.state["prepared"] = True

    @careful.handles(OrderPlaced)
    async def handle(event: OrderPlaced, context: HandlerContext) -> None:
        seen.append(bool(context.runtime.state.get("prepared")))

    async with EventBus(messaging_settings, service="test") as bus:
        await bus.publish(order_placed())  # waiting on the topic before the service starts
    async with running_service(careful, settings_for("careful")) as running:
        await running.wait_for(lambda: bool(seen))
    assert seen == [True]
