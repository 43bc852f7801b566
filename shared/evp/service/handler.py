"""A service's event handlers: each run once per event id, in one store transaction.

A handler declared with :meth:`Service.handles <evp.service.Service.handles>` is called as
``handler(event, context)``. Before it runs, the kit claims the event for the handler's
consumer group in a transaction of the service's event store; what the handler appends
to the store (``context.store.append(...)`` joins that transaction) and any SQL it runs
on ``context.transaction.connection`` commit together with the mark that the event was
handled. A redelivered event finds the mark and the handler is not called again: handled
and emitted commit atomically, or neither does.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import SpanKind

from evp.avro import Event
from evp.eventstore.idempotency import ProcessedEvents
from evp.eventstore.postgres import PostgresTransaction
from evp.eventstore.store import EventStore
from evp.messaging.headers import TRACEPARENT
from evp.messaging.message import MessageContext
from evp.metrics import Outcome
from evp.tracing import parent_of
from evp.web.logs import log_context

if TYPE_CHECKING:
    from evp.service.runtime import ServiceRuntime

__all__ = ["HandlerContext", "HandlerSpec", "ServiceHandler"]

ServiceHandler = Callable[[Any, "HandlerContext"], Awaitable[None]]
"""An async function taking one of its declared event types and a :class:`HandlerContext`."""


@dataclasses.dataclass(frozen=True, slots=True)
class HandlerContext:
    """What a handler gets besides its event: the store, the transaction, the message."""

    store: EventStore[PostgresTransaction]
    """The service's event store; appends join :attr:`transaction`."""
    transaction: PostgresTransaction
    """The transaction the handler's writes commit in, with the processed mark."""
    message: MessageContext
    """Where the event came from (topic, partition, offset, attempt)."""
    runtime: ServiceRuntime
    """The running service, for what else the handler needs (settings, metrics)."""


@dataclasses.dataclass(frozen=True)
class HandlerSpec:
    """One declared handler: the events it takes, in which group, how patiently."""

    handler: ServiceHandler
    events: Sequence[type[Event]]
    group: str
    retries: int | None
    timeout: float | None

    @property
    def name(self) -> str:
        """The handler's qualified name, for logs and metrics."""
        return getattr(self.handler, "__qualname__", repr(self.handler))

    def bind(
        self, runtime: ServiceRuntime, processed: ProcessedEvents
    ) -> Callable[[Event, MessageContext], Awaitable[None]]:
        """The bus-level handler: claim, call, record the outcome in the metrics."""
        handler, group = self.handler, self.group
        metrics, store = runtime.metrics, runtime.store
        tracer, name = runtime.tracing.tracer, self.name

        async def handle_once(event: Event, message: MessageContext) -> None:
            started = time.perf_counter()
            envelope = event.envelope
            # The flow's correlation id is its trace (as the traceparent header says), so
            # log lines of one order line up across services.
            with (
                log_context(
                    envelope.correlation_id,
                    trace_id=envelope.correlation_id.hex,
                    span_id=envelope.event_id.hex[:16],
                ),
                tracer.start_as_current_span(
                    f"handle {event.FULL_NAME}",
                    context=parent_of(message.header(TRACEPARENT)),
                    kind=SpanKind.CONSUMER,
                    attributes={"evp.group": group, "evp.handler": name},
                ),
            ):
                async with processed.claim(group, envelope.event_id) as claim:
                    if not claim.new:
                        metrics.handled(group, event.FULL_NAME, Outcome.DUPLICATE, 0.0)
                        return
                    transaction: Any = claim.transaction
                    await handler(event, HandlerContext(store, transaction, message, runtime))
            elapsed = time.perf_counter() - started
            metrics.handled(group, event.FULL_NAME, Outcome.HANDLED, elapsed)

        handle_once.__qualname__ = self.name
        return handle_once
