"""The async producer adapter: confirmed deliveries, and failed ones raising."""

from __future__ import annotations

import socket

import pytest

from evp.messaging import DeliveryFailed, MessagingSettings
from evp.messaging.config import producer_config
from evp.messaging.producer import AsyncProducer, Outgoing


async def test_a_batch_is_confirmed_in_order(messaging_settings: MessagingSettings) -> None:
    """Every message of a batch is confirmed, reported in the order sent."""
    producer = AsyncProducer(
        producer_config(
            messaging_settings,
            bootstrap_servers=str(messaging_settings.bootstrap_servers),
            client_id="t",
        )
    )
    producer.start()
    topic = messaging_settings.topic_prefix + "raw"
    try:
        sent = [Outgoing(topic, b"k", str(i).encode(), []) for i in range(10)]
        deliveries = await producer.send(sent)
    finally:
        await producer.close()
    assert [d.offset for d in deliveries] == list(range(10))


async def test_an_undeliverable_message_raises() -> None:
    """A message Kafka never confirms (no broker listening) raises DeliveryFailed."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{closed.getsockname()[1]}"
    settings = MessagingSettings(address, delivery_timeout_ms=300)
    producer = AsyncProducer(
        {**producer_config(settings, bootstrap_servers=address, client_id="t"), "log_level": 0}
    )
    producer.start()
    try:
        with pytest.raises(DeliveryFailed) as failed:
            await producer.send([Outgoing("nowhere", b"k", b"v", [])])
    finally:
        await producer.close(timeout=0)
    assert failed.value.failed == 1
    assert failed.value.code == "_MSG_TIMED_OUT"
