"""Traces: spans for requests, publishes and handlers, one trace per flow across services."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from evp.demo.services import orders, payments
from evp.events import OrderPlaced
from evp.service import ServiceSettings
from evp.service.testing import running_service
from evp.tracing import Tracing

Settings = Callable[[str], ServiceSettings]
ORDER = {
    "user_id": "6c1f6e0e-7d0a-4a59-9f5f-0d5e4c9f2a11",
    "currency": "EUR",
    "lines": [{"sku": "BOOK-1", "quantity": 1, "unit_price": "10.00"}],
}


def test_tracing_is_off_without_an_endpoint() -> None:
    """No OTEL_EXPORTER_OTLP_ENDPOINT: the no-op tracer, nothing to flush."""
    tracing = Tracing.from_env("orders", {})
    assert not tracing.enabled
    tracing.shutdown()


def test_tracing_exports_over_otlp_when_an_endpoint_is_set() -> None:
    """The standard variable turns exporting on, named by OTEL_SERVICE_NAME."""
    environ = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_SERVICE_NAME": "shop"}
    tracing = Tracing.from_env("orders", environ)
    assert tracing.enabled
    assert tracing.provider is not None
    assert tracing.provider.resource.attributes["service.name"] == "shop"
    tracing.shutdown()


async def test_an_orders_flow_is_one_trace_across_services(settings_for: Settings) -> None:
    """The request, the relay's publish and the other service's handler are spans of the
    flow's trace (its correlation id), the handler a child of the event it handled."""
    shop_spans, bank_spans = InMemorySpanExporter(), InMemorySpanExporter()
    shop_tracing = Tracing.exporting("orders", shop_spans)
    bank_tracing = Tracing.exporting("payments", bank_spans)
    async with (
        running_service(orders, settings_for("orders"), tracing=shop_tracing) as shop,
        running_service(payments, settings_for("payments"), tracing=bank_tracing),
    ):
        order_id = (await shop.http.post("/orders", json=ORDER)).json()["order_id"]

        async def confirmed() -> bool:
            answer = await shop.http.get(f"/orders/{order_id}")
            return bool(answer.json()["status"] == "confirmed")

        await shop.wait_for(confirmed)
        (placed,) = [
            r.event
            for r in await shop.runtime.store.read_all(0)
            if isinstance(r.event, OrderPlaced)
        ]
        for tracing in (shop_tracing, bank_tracing):
            assert tracing.provider is not None
            tracing.provider.force_flush()
    flow = placed.envelope.correlation_id.hex
    request = _one(shop_spans.get_finished_spans(), "POST /orders")
    publish = _one(shop_spans.get_finished_spans(), f"publish {OrderPlaced.FULL_NAME}")
    handle = _one(bank_spans.get_finished_spans(), f"handle {OrderPlaced.FULL_NAME}")
    assert request.kind is SpanKind.SERVER
    assert request.attributes is not None
    assert request.attributes["http.response.status_code"] == 201
    assert f"{publish.context.trace_id:032x}" == flow
    assert f"{handle.context.trace_id:032x}" == flow
    assert handle.parent is not None
    assert f"{handle.parent.span_id:016x}" == placed.envelope.event_id.hex[:16]
    assert uuid.UUID(order_id) == placed.order_id


def _one(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    found = [span for span in spans if span.name == name]
    assert len(found) == 1, [span.name for span in spans]
    return found[0]
