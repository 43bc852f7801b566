"""Poison on every topic while real orders go through the shop: exactly the poison is
dead-lettered, once per group that must drop it, nothing crashes, and no real order is
held up past a bound.

The six services run in-process (:mod:`tests.shop.running`) with the runtime's default
handler retry backoff (0.1 s doubling to 5 s), so that a handler failing on poison holds
its partition as long as it would in production. The registry is the test's own, as the
poison registers a schema of its own.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from evp.messaging import EventBus, MessagingSettings
from evp.messaging.headers import (
    DLQ_GROUP,
    DLQ_ORIGINAL_OFFSET,
    DLQ_ORIGINAL_PARTITION,
    DLQ_ORIGINAL_TOPIC,
    DLQ_REASON,
    Headers,
    header,
    headers_of,
)
from evp.messaging.producer import Outgoing
from evp.testing.kafka import BOOTSTRAP_VARIABLE, messaging_settings_for, register_catalog
from shop.analytics.app import service as analytics
from shop.inventory.app import service as inventory
from shop.notifications.app import service as notifications
from shop.orders.app import service as orders
from shop.payments.app import service as payments
from shop.users.app import service as users
from tests.faults.poison import (
    INCOMPATIBLE_RECORDS,
    Poison,
    expected_letters,
    failing_events,
    groups_by_topic,
    incompatible_schema,
    incompatible_value,
    unknown_schema_value,
)
from tests.messaging.probes import topic_messages
from tests.shop.running import Shop, shop

__all__ = ["shop"]

ORDERS = 8
ORDER_BOUND_S = 10.0
"""Each real order is confirmed within this of being placed, poison or not: an order
takes 1-2 s here, and one queued behind the poison inventory fails on waits out that
handler's five retries (0.1 + 0.2 + 0.4 + 0.8 + 1.6 s) on top."""
LETTERS_BOUND_S = 30.0
SHOP = (users, inventory, payments, orders, notifications, analytics)


@pytest.fixture
def messaging_settings(
    kafka_bootstrap_servers: str,
    schema_registry: str,
    topic_prefix: str,
    pytestconfig: pytest.Config,
) -> MessagingSettings:
    """The test's topics on a registry of its own, with the runtime's default retry backoff."""
    register_catalog(schema_registry, pytestconfig.rootpath / "schemas")
    return messaging_settings_for(
        kafka_bootstrap_servers,
        schema_registry,
        topic_prefix,
        embedded=not os.environ.get(BOOTSTRAP_VARIABLE),
        retry_backoff=MessagingSettings(None).retry_backoff,
        retry_backoff_max=MessagingSettings(None).retry_backoff_max,
    )


@pytest.fixture
async def poisoner(messaging_settings: MessagingSettings) -> AsyncIterator[EventBus]:
    """A bus that sends the poison."""
    async with EventBus(messaging_settings, service="poisoner") as bus:
        yield bus


async def _poison_every_topic(bus: EventBus, settings: MessagingSettings) -> list[Poison]:
    """Send the four kinds of poison to each of the shop's topics; what was sent."""
    readers = groups_by_topic(SHOP)
    failing = failing_events()
    sent: list[Poison] = []
    with SchemaRegistryClient({"url": settings.schema_registry_url}) as client:
        for topic, groups in sorted(readers.items()):
            record = INCOMPATIBLE_RECORDS[topic]
            incompatible_id = client.register_schema(
                f"poison-{record.FULL_NAME}", Schema(incompatible_schema(record), "AVRO")
            )
            everyone = frozenset(groups)
            raw = [
                ("wire-format", b"not an avro frame", everyone),
                ("unknown-schema-id", unknown_schema_value(), everyone),
                (
                    "incompatible-writer",
                    incompatible_value(incompatible_id),
                    frozenset(g for g, names in groups.items() if record.FULL_NAME in names),
                ),
            ]
            name = settings.topic_prefix + topic
            for kind, value, expected in raw:
                (delivery,) = await bus.producer.send([Outgoing(name, b"poison", value, [])])
                sent.append(Poison(kind, topic, delivery.partition, delivery.offset, expected))
            event, failing_groups = failing[topic]
            published = await bus.publish(event)
            delivery = published.delivery
            sent.append(
                Poison("handler-failed", topic, delivery.partition, delivery.offset, failing_groups)
            )
    return sent


def _letters(
    settings: MessagingSettings, topics: list[str]
) -> dict[tuple[str, str, int, int], str]:
    """Every dead letter of ``topics``: (group, topic, partition, offset) -> reason."""
    assert settings.bootstrap_servers is not None
    found: dict[tuple[str, str, int, int], str] = {}
    for topic in topics:
        dead = topic_messages(settings.bootstrap_servers, f"{settings.topic_prefix}{topic}.dlq")
        for message in dead:
            headers = headers_of(message)

            def text(name: str, headers: Headers = headers) -> str:
                return (header(headers, name) or b"").decode()

            key = (
                text(DLQ_GROUP),
                text(DLQ_ORIGINAL_TOPIC).removeprefix(settings.topic_prefix),
                int(text(DLQ_ORIGINAL_PARTITION)),
                int(text(DLQ_ORIGINAL_OFFSET)),
            )
            assert key not in found, f"dead-lettered twice: {key}"
            found[key] = text(DLQ_REASON)
    return found


async def test_poison_on_every_topic_is_dead_lettered_exactly_while_real_orders_go_through(
    shop: Shop, poisoner: EventBus, messaging_settings: MessagingSettings
) -> None:
    """Twenty poison messages (four kinds on each of five topics) sent while eight orders
    are placed: each is dead-lettered exactly once by every group that must drop it (43
    letters), no real event is, every order is confirmed within 10 s of being placed, and
    every service stays ready with no fetch loop restarted."""
    await shop.add_product("POISON-PROOF", stock=100)
    await shop.terminal(await shop.order_once_priced([("POISON-PROOF", 1)]))

    async def timed_order() -> float:
        placed = time.monotonic()
        response = await shop.place([("POISON-PROOF", 1)])
        order = await shop.terminal(response.json()["order_id"], timeout=ORDER_BOUND_S * 2)
        assert order["status"] == "CONFIRMED", order
        return time.monotonic() - placed

    placing = [asyncio.create_task(timed_order()) for _ in range(ORDERS)]
    poisons = await _poison_every_topic(poisoner, messaging_settings)
    latencies = await asyncio.gather(*placing)

    expected = expected_letters(poisons)
    topics = sorted({p.topic for p in poisons})
    deadline = time.monotonic() + LETTERS_BOUND_S
    while len(_letters(messaging_settings, topics)) < len(expected):
        assert time.monotonic() < deadline, "the dead letters did not all come"
        await asyncio.sleep(0.5)
    await asyncio.sleep(2.0)  # room for a letter too many
    assert _letters(messaging_settings, topics) == expected
    assert len(expected) == 43
    assert max(latencies) < ORDER_BOUND_S, sorted(latencies)
    for name, service in shop.services.items():
        ready = await service.http.get("/health/ready")
        assert ready.status_code == 200, (name, ready.json())
        for subscriber in service.runtime.bus.subscribers:
            assert (subscriber.fetch_restarts, subscriber.processing_failures) == (0, 0), name
