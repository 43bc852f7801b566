"""The outbox relay over Kafka: a relayed event arrives as ``EventBus.publish`` sends it."""

from __future__ import annotations

import asyncio

from evp.avro import AvroCodec
from evp.events import OrderPlaced
from evp.eventstore import EventStore, OutboxRelay, PostgresRecorder
from evp.messaging import EventBus, MessageContext, MessagingSettings, RegistrySchemaLookup
from evp.testing.samples import order_placed


async def test_a_relayed_event_lands_with_the_key_and_partition_bus_publish_gives_it(
    messaging_settings: MessagingSettings, postgres_recorder: PostgresRecorder
) -> None:
    """Two OrderPlaced of one order, one published by the bus and one relayed, share a key."""
    direct = order_placed()
    relayed = order_placed(order_id=direct.order_id)
    arrived: dict[object, tuple[bytes | None, int]] = {}
    both = asyncio.Event()
    bus = EventBus(messaging_settings, service="orders")

    @bus.subscriber(group="probe", events=(OrderPlaced,))
    async def seen(event: OrderPlaced, context: MessageContext) -> None:
        arrived[event.envelope.event_id] = (context.key, context.partition)
        if len(arrived) == 2:
            both.set()

    with RegistrySchemaLookup(messaging_settings.schema_registry_url) as lookup:
        store = EventStore(postgres_recorder, AvroCodec(lookup))
        await store.append(f"order-{relayed.order_id}", [relayed], expected_version=0)
        async with bus:
            await bus.wait_assigned()
            await bus.publish(direct)
            assert await OutboxRelay(postgres_recorder, bus).drain() == 1
            async with asyncio.timeout(30):
                await both.wait()
    key = direct.key().encode()
    assert arrived[relayed.envelope.event_id] == arrived[direct.envelope.event_id]
    assert arrived[relayed.envelope.event_id][0] == key
