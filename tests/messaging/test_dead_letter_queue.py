"""The dead-letter tooling: `evp dlq list`, `show` and `replay` against Kafka."""

from __future__ import annotations

import asyncio
import io
import json

import fastavro
import httpx
import pytest

from evp.avro.schema import parse_plain
from evp.avro.wire import frame_header
from evp.cli.main import main
from evp.events import OrderCancelled, OrderPlaced
from evp.messaging import EventBus, MessageContext, MessagingSettings
from evp.messaging import headers as h
from evp.messaging.dead_letter_queue import DeadLetterQueue
from evp.messaging.producer import Outgoing

from .probes import DeadLetterRecorder, EventRecorder
from .samples import order_cancelled, order_placed


async def _evp(*argv: str) -> int:
    """Run the `evp` command line (it runs its own event loop, so on a thread of its own)."""
    return await asyncio.to_thread(main, list(argv))


def _dlq_args(settings: MessagingSettings, command: str, topic: str) -> list[str]:
    return [
        "dlq",
        command,
        "--topic",
        topic,
        "--bootstrap-servers",
        str(settings.bootstrap_servers),
        "--registry",
        settings.schema_registry_url,
    ]


async def test_replay_redelivers_a_fixed_letter_exactly_once(
    messaging_settings: MessagingSettings,
) -> None:
    """A letter replayed after its cause is fixed is handled once; a second replay adds nothing."""
    broken = True

    def handle(event: object, context: MessageContext) -> None:
        if broken:
            raise RuntimeError("inventory service unreachable")

    recorder, letters = EventRecorder(handle), DeadLetterRecorder()
    bus = EventBus(messaging_settings, service="orders")
    bus.subscriber(group="fulfilment", events=(OrderPlaced,), retries=0)(recorder)
    bus.on_dead_letter(letters)
    order = order_placed()
    async with bus:
        topic = bus.topics.of(OrderPlaced)
        await bus.publish(order)
        await letters.wait_for(1)
        broken = False
        assert await _evp(*_dlq_args(messaging_settings, "replay", topic), "--all") == 0
        await recorder.wait_for(2)
        assert await _evp(*_dlq_args(messaging_settings, "replay", topic), "--all") == 0
        # Same key, so same partition: a duplicate replay would arrive before this one.
        sentinel = order_placed(order_id=order.order_id)
        await bus.publish(sentinel)
        await recorder.wait_for(3)
    assert recorder.events == [order, order, sentinel]
    replayed = recorder.calls[1][1]
    assert replayed.header(h.DLQ_REPLAYED_FROM) == f"{topic}.dlq:0:0".encode()


async def test_list_shows_each_letter_with_its_reason_and_replay_state(
    messaging_settings: MessagingSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    """`evp dlq list` prints one line per letter: offset, reason, origin, state, error."""
    letters = DeadLetterRecorder()
    bus = EventBus(messaging_settings, service="orders")
    bus.subscriber(group="g", events=(OrderPlaced,))(EventRecorder())
    bus.on_dead_letter(letters)
    async with bus:
        topic = bus.topics.of(OrderPlaced)
        await bus.producer.send([Outgoing(topic, b"k", b"garbage", [])])
        await letters.wait_for(1)
    assert await _evp(*_dlq_args(messaging_settings, "list", topic)) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.split()[:2] == ["0", "wire-format"]
    assert "pending" in line
    assert "WireFormatError" in line


async def test_show_decodes_the_body_of_a_frame(
    messaging_settings: MessagingSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    """`evp dlq show` prints the reason, the headers and the body decoded with its schema."""
    letters = DeadLetterRecorder()
    bus = EventBus(messaging_settings, service="orders")
    order = order_placed()

    async def fail(event: OrderPlaced, context: MessageContext) -> None:
        raise LookupError("no such customer")

    bus.subscriber(group="g", events=(OrderPlaced,), retries=0)(fail)
    bus.on_dead_letter(letters)
    async with bus:
        await bus.publish(order)
        await letters.wait_for(1)
    topic = bus.topics.of(OrderPlaced)
    assert await _evp(*_dlq_args(messaging_settings, "show", topic), "--offset", "0") == 0
    out = capsys.readouterr().out
    assert "reason:    handler-failed" in out
    assert "LookupError: no such customer" in out
    assert f"event-id: {order.envelope.event_id}" in out
    assert '"sku": "SKU-RED-MUG"' in out


async def test_show_prints_hex_for_a_body_it_cannot_decode(
    messaging_settings: MessagingSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    """A letter that is not a frame is shown as hex."""
    letters = DeadLetterRecorder()
    bus = EventBus(messaging_settings, service="orders")
    bus.subscriber(group="g", events=(OrderPlaced,))(EventRecorder())
    bus.on_dead_letter(letters)
    async with bus:
        topic = bus.topics.of(OrderPlaced)
        await bus.producer.send([Outgoing(topic, b"k", b"\xff\xfe", [])])
        await letters.wait_for(1)
    assert await _evp(*_dlq_args(messaging_settings, "show", topic), "--offset", "0") == 0
    out = capsys.readouterr().out
    assert "not decodable" in out
    assert "ff fe" in out


async def test_replay_skips_a_letter_that_would_be_refused_again(
    messaging_settings: MessagingSettings, kafka_bootstrap_servers: str
) -> None:
    """Garbage is not re-published: replay reports it and exits 1; the letter stays pending."""
    letters = DeadLetterRecorder()
    bus = EventBus(messaging_settings, service="orders")
    bus.subscriber(group="g", events=(OrderPlaced,))(EventRecorder())
    bus.on_dead_letter(letters)
    async with bus:
        topic = bus.topics.of(OrderPlaced)
        await bus.producer.send([Outgoing(topic, b"k", b"garbage", [])])
        await letters.wait_for(1)
    assert await _evp(*_dlq_args(messaging_settings, "replay", topic), "--offset", "0") == 1
    (letter,) = DeadLetterQueue({"bootstrap.servers": kafka_bootstrap_servers}).letters(topic)
    assert not letter.replayed


async def test_show_of_a_missing_offset_is_an_error(messaging_settings: MessagingSettings) -> None:
    """Asking for a letter that does not exist fails with exit status 2."""
    topic = messaging_settings.topic_prefix + "orders"
    assert await _evp(*_dlq_args(messaging_settings, "show", topic), "--offset", "5") == 2


async def test_show_prints_an_incompatible_writers_problems(
    messaging_settings: MessagingSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    """`evp dlq show` lists each compatibility problem with its path and both fragments."""
    writer = json.loads(OrderCancelled.AVRO_SCHEMA)
    writer["fields"] = [f for f in writer["fields"] if f["name"] != "reason"]
    writer_text = json.dumps(writer)
    registry = messaging_settings.schema_registry_url
    subject = f"{messaging_settings.topic_prefix}scratch-{OrderCancelled.FULL_NAME}"
    response = httpx.post(f"{registry}/subjects/{subject}/versions", json={"schema": writer_text})
    schema_id = response.raise_for_status().json()["id"]
    body = io.BytesIO()
    datum = {k: v for k, v in order_cancelled().to_avro().items() if k != "reason"}
    fastavro.schemaless_writer(body, parse_plain(writer_text), datum)
    letters = DeadLetterRecorder()
    bus = EventBus(messaging_settings, service="orders")
    bus.subscriber(group="g", events=(OrderCancelled,))(EventRecorder())
    bus.on_dead_letter(letters)
    async with bus:
        topic = bus.topics.of(OrderCancelled)
        await bus.publish_raw(topic, b"k", frame_header(schema_id) + body.getvalue(), [])
        await letters.wait_for(1)
    assert await _evp(*_dlq_args(messaging_settings, "show", topic), "--offset", "0") == 0
    out = capsys.readouterr().out
    assert "problem:   READER_FIELD_MISSING_DEFAULT_VALUE at /fields/" in out
    reader = next(line for line in out.splitlines() if line.strip().startswith("reader: "))
    assert json.loads(reader.split("reader: ", 1)[1])["name"] == "reason"
    assert any(line.strip().startswith("writer: {") for line in out.splitlines())
