"""Traces: OpenTelemetry spans for requests, publishes and handlers, off unless configured.

A leaf (OpenTelemetry and the standard library only). With ``OTEL_EXPORTER_OTLP_ENDPOINT``
set (the standard variable; ``OTEL_SERVICE_NAME`` names the service), spans are exported
over OTLP/HTTP in batches; without it the tracer is OpenTelemetry's no-op one, so tracing
costs next to nothing. Every service instance gets a provider of its own rather than the
process-wide one: several services run in one test process.

Spans join across services through the ``traceparent`` header the runtime already writes
on every message (the flow's correlation id is the trace, the event a span in it), so a
handler's span is a child of the event it handles, and all the events of one order fall
into one trace without any service passing a context along.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = ["ENDPOINT_VARIABLE", "Tracing", "parent_of"]

ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"
_PROPAGATOR = TraceContextTextMapPropagator()


@dataclass
class Tracing:
    """One service instance's tracer, and the provider to flush when it stops."""

    tracer: trace.Tracer
    provider: TracerProvider | None = None

    @classmethod
    def disabled(cls) -> Tracing:
        """OpenTelemetry's no-op tracer: spans cost nothing and go nowhere."""
        return cls(trace.NoOpTracer())

    @classmethod
    def exporting(cls, service: str, exporter: SpanExporter) -> Tracing:
        """Spans of ``service`` exported in batches to ``exporter``."""
        provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
        provider.add_span_processor(BatchSpanProcessor(exporter))
        return cls(provider.get_tracer("evp"), provider)

    @classmethod
    def from_env(cls, service: str, environ: Mapping[str, str] | None = None) -> Tracing:
        """Exporting over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, else off."""
        env = os.environ if environ is None else environ
        if not env.get(ENDPOINT_VARIABLE, "").strip():
            return cls.disabled()
        # Imported only when used: the exporter pulls in protobuf and an HTTP client.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return cls.exporting(env.get("OTEL_SERVICE_NAME") or service, OTLPSpanExporter())

    @property
    def enabled(self) -> bool:
        """Whether spans go anywhere."""
        return self.provider is not None

    def shutdown(self) -> None:
        """Export what is buffered and stop (blocking briefly; call it off the event loop)."""
        if self.provider is not None:
            self.provider.shutdown()


def parent_of(traceparent: bytes | str | None) -> Context | None:
    """The span context a W3C ``traceparent`` names, to start a child span in; ``None``
    when there is none or it is malformed."""
    if not traceparent:
        return None
    value = traceparent.decode() if isinstance(traceparent, bytes) else traceparent
    context = _PROPAGATOR.extract({"traceparent": value})
    span = trace.get_current_span(context)
    return context if span.get_span_context().is_valid else None
