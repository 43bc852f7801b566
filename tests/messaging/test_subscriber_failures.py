"""Consuming when things break: nothing skipped, hung handlers cut off, fetching restarted."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import threading
from typing import Any, ClassVar

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer

from evp.events import OrderPlaced
from evp.messaging import EventBus, HandlerTimedOut, MessageContext, MessagingSettings, Reason
from evp.messaging import headers as h
from evp.messaging import subscriber as subscriber_module
from evp.messaging.dead_letter import DeadLetter
from evp.messaging.topics import TopicNames

from .probes import DeadLetterRecorder, EventRecorder, topic_messages
from .samples import order_placed


class _FlakyOrderPlaced(OrderPlaced):
    """OrderPlaced whose conversion fails, unexpectedly, the first ``failures`` times."""

    failures: ClassVar[int] = 1

    @classmethod
    def from_avro(cls, data: dict[str, Any]) -> OrderPlaced:
        if _FlakyOrderPlaced.failures > 0:
            _FlakyOrderPlaced.failures -= 1
            raise RuntimeError("a bug in a reader class")
        return OrderPlaced.from_avro(data)


async def test_a_message_whose_processing_fails_unexpectedly_is_tried_again_not_skipped(
    messaging_settings: MessagingSettings,
) -> None:
    """An error the processor does not expect sends the consumer back to the message."""
    _FlakyOrderPlaced.failures = 1
    recorder = EventRecorder()
    bus = EventBus(messaging_settings, service="test")
    bus.subscriber(group="readers", events=(_FlakyOrderPlaced,))(recorder)
    key = order_placed()
    orders = [order_placed(order_id=key.order_id) for _ in range(3)]  # one partition
    async with bus:
        await bus.publish_batch(orders)
        received = await recorder.wait_for(3)
        (subscriber,) = bus.subscribers
    assert [e.envelope.event_id for e in received] == [o.envelope.event_id for o in orders]
    assert subscriber.processing_failures == 1


async def test_a_message_that_always_fails_unexpectedly_holds_its_partition(
    messaging_settings: MessagingSettings,
) -> None:
    """Until it can be processed, neither the message nor those after it are committed."""
    _FlakyOrderPlaced.failures = 10_000
    recorder = EventRecorder()
    bus = EventBus(messaging_settings, service="test")
    bus.subscriber(group="readers", events=(_FlakyOrderPlaced,))(recorder)
    first = order_placed()
    second = order_placed(order_id=first.order_id)
    async with bus:
        await bus.publish_batch([first, second])
        (subscriber,) = bus.subscribers
        async with asyncio.timeout(15):
            while subscriber.processing_failures < 2:
                await asyncio.sleep(0.02)
    _FlakyOrderPlaced.failures = 0
    assert recorder.calls == []
    # A second start of the group gets both again: nothing was committed past the first.
    again = EventRecorder()
    bus = EventBus(messaging_settings, service="test")
    bus.subscriber(group="readers", events=(OrderPlaced,))(again)
    async with bus:
        received = await again.wait_for(2)
    assert received == [first, second]


async def test_a_dead_letter_too_large_to_send_is_kept_truncated(
    messaging_settings: MessagingSettings,
) -> None:
    """A letter over the producer's size limit is written cut, saying so; the consumer goes on."""
    limit = 20_000
    settings = messaging_settings.replace(client_properties={"message.max.bytes": str(limit)})
    recorder, letters = EventRecorder(), DeadLetterRecorder()
    bus = EventBus(settings, service="test")
    bus.subscriber(group="readers", events=(OrderPlaced,))(recorder)
    bus.on_dead_letter(letters)
    garbage = b"not a wire-format frame " * 2_000  # 48,000 bytes
    order = order_placed()
    async with bus:
        topic = bus.topics.of(OrderPlaced)
        producer = Producer({"bootstrap.servers": bus.bootstrap_servers})
        producer.produce(topic, garbage, order.key().encode())
        assert producer.flush(10) == 0
        (notice,) = await letters.wait_for(1)
        await bus.publish(order)
        assert await recorder.wait_for(1) == [order]
    (stored,) = topic_messages(bus.bootstrap_servers, TopicNames.dead_letter(topic))
    letter = DeadLetter.from_message(stored)
    found = dict(letter.headers)
    assert notice.reason is Reason.WIRE_FORMAT
    assert len(letter.value) < limit
    assert garbage.startswith(letter.value)
    assert found[h.DLQ_TRUNCATED] == str(len(garbage)).encode()
    assert found[h.DLQ_VALUE_SHA256] == hashlib.sha256(garbage).hexdigest().encode()
    assert letter.reason == Reason.WIRE_FORMAT.value


async def test_a_hung_handler_attempt_is_cut_off_and_retried(
    messaging_settings: MessagingSettings,
) -> None:
    """An attempt past the subscriber's timeout counts as failed, and the retry goes on."""

    async def hang_once(event: object, context: MessageContext) -> None:
        if context.attempt == 1:
            await asyncio.sleep(3600)

    recorder, letters = EventRecorder(hang_once), DeadLetterRecorder()
    bus = EventBus(messaging_settings, service="test")
    bus.subscriber(group="readers", events=(OrderPlaced,), timeout=0.2, retries=2)(recorder)
    bus.on_dead_letter(letters)
    order = order_placed()
    async with bus:
        await bus.publish(order)
        await recorder.wait_for(2)
        (subscriber,) = bus.subscribers
    assert [c.attempt for _, c in recorder.calls] == [1, 2]
    assert letters.notices == []
    assert subscriber.timeouts == 1


async def test_a_handler_that_always_hangs_is_dead_lettered_and_others_go_on(
    messaging_settings: MessagingSettings,
) -> None:
    """Timed-out attempts are failed attempts: retried, then dead-lettered; the group goes on."""
    stuck = order_placed()

    async def hang(event: object, context: MessageContext) -> None:
        if event == stuck:
            await asyncio.sleep(3600)

    recorder, letters = EventRecorder(hang), DeadLetterRecorder()
    settings = messaging_settings.replace(max_in_flight=1)
    bus = EventBus(settings, service="test")
    bus.subscriber(group="readers", events=(OrderPlaced,), timeout=0.1, retries=1)(recorder)
    bus.on_dead_letter(letters)
    others = [order_placed() for _ in range(5)]
    async with bus:
        await bus.publish_batch([stuck, *others])
        (notice,) = await letters.wait_for(1)
        await recorder.wait_for(2 + len(others))
    assert notice.reason is Reason.HANDLER_FAILED
    assert isinstance(notice.error, HandlerTimedOut)
    handled = {e.envelope.event_id for e in recorder.events}
    assert {o.envelope.event_id for o in others} <= handled


class _FailingOnceConsumer(Consumer):  # type: ignore[misc]
    """A consumer whose second fetch raises, as a fatal client error would."""

    calls = 0

    def consume(self, *args: Any, **kwargs: Any) -> Any:
        _FailingOnceConsumer.calls += 1
        if _FailingOnceConsumer.calls == 2:
            raise KafkaException(KafkaError(KafkaError._FATAL, "simulated fatal error"))
        return super().consume(*args, **kwargs)


async def test_a_fetch_loop_that_fails_is_restarted_and_says_so(
    messaging_settings: MessagingSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After its fetch loop raised, the member restarts it, counts it, and handles events."""
    _FailingOnceConsumer.calls = 0
    monkeypatch.setattr(subscriber_module, "Consumer", _FailingOnceConsumer)
    recorder = EventRecorder()
    bus = EventBus(messaging_settings, service="test")
    bus.subscriber(group="readers", events=(OrderPlaced,))(recorder)
    order = order_placed()
    async with bus:
        (subscriber,) = bus.subscribers
        async with asyncio.timeout(10):
            while subscriber.fetch_restarts == 0:
                await asyncio.sleep(0.005)
        unhealthy = subscriber.health()
        await bus.publish(order)
        assert await recorder.wait_for(1) == [order]
        healthy = subscriber.health()
    assert not unhealthy.ok
    assert "simulated fatal error" in unhealthy.detail
    assert healthy.ok
    assert subscriber.fetch_restarts == 1


class _StuckClosingConsumer(Consumer):  # type: ignore[misc]
    """A consumer whose close() does not return until the test lets it."""

    release = threading.Event()

    def close(self, *args: Any, **kwargs: Any) -> Any:
        _StuckClosingConsumer.release.wait(30)
        return super().close(*args, **kwargs)


async def test_a_close_that_does_not_return_is_left_behind_at_stop(
    messaging_settings: MessagingSettings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Stopping waits ``close_timeout`` for the consumer to leave its group, not forever."""
    _StuckClosingConsumer.release.clear()
    monkeypatch.setattr(subscriber_module, "Consumer", _StuckClosingConsumer)
    bus = EventBus(dataclasses.replace(messaging_settings, close_timeout=0.5), service="test")
    bus.subscriber(group="readers", events=(OrderPlaced,))(EventRecorder())
    try:
        async with asyncio.timeout(10):
            async with bus:
                (subscriber,) = bus.subscribers
                await subscriber.wait_assigned()
    finally:
        _StuckClosingConsumer.release.set()
    assert "group readers: leaving the group took more than" in caplog.text
