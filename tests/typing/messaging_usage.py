"""Usage of the event runtime that must type-check: a service's bus, handlers and publishing."""

from __future__ import annotations

from evp.avro import Event
from evp.events import OrderCancelled, PaymentProcessed, PaymentRequested
from evp.eventstore.idempotency import InMemoryProcessedEvents, ProcessedEvents, idempotent
from evp.messaging import (
    EventBus,
    MessageContext,
    MessagingSettings,
    Published,
    RawPublisher,
)
from evp.messaging.publisher import PublishedBatch

bus = EventBus(MessagingSettings(None), service="payments", publishes=(PaymentProcessed,))
processed: ProcessedEvents = InMemoryProcessedEvents()


@bus.subscriber(group="payments", events=(PaymentRequested, OrderCancelled), retries=3)
@idempotent(processed)
async def handle(event: PaymentRequested | OrderCancelled, context: MessageContext) -> None:
    """A handler keeps its own signature under both decorators."""
    if isinstance(event, PaymentRequested) and context.attempt == 1:
        await bus.publish_batch([])


async def publish(event: PaymentProcessed) -> PaymentProcessed:
    """publish answers the event as published, with where Kafka wrote it."""
    published: Published[PaymentProcessed] = await bus.publish(event)
    batch: PublishedBatch[Event] = await bus.publish_batch([event, event])
    offsets: list[int] = [p.delivery.offset for p in batch]
    del offsets
    return published.event


def relay_target() -> RawPublisher:
    """The running bus's publisher is the event store relay's RawPublisher."""
    return bus.publisher
