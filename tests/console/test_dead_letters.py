"""The console's dead-letter pages against the embedded Kafka and the catalog registry:
each topic's count, a topic's letters, one letter decoded, and replay."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from evp.console import Platform, ProcessInfo, console_app
from evp.contract import load_catalog
from evp.events import OrderPlaced
from evp.messaging import DeadLettered, EventBus, MessageContext, MessagingSettings
from evp.messaging.producer import Outgoing
from evp.testing.kafka import (
    catalog_registry,
    kafka_bootstrap_servers,
    messaging_settings,
    topic_prefix,
)
from evp.testing.samples import order_placed
from tests.messaging.probes import DeadLetterRecorder, EventRecorder

# The Kafka and registry fixtures, for this module (the package's conftest is not ours).
__all__ = ["catalog_registry", "kafka_bootstrap_servers", "messaging_settings", "topic_prefix"]

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
GARBAGE = b"garbage"


class _NoProcesses:
    def processes(self) -> list[ProcessInfo]:
        return []


@asynccontextmanager
async def _console(settings: MessagingSettings) -> AsyncIterator[httpx.AsyncClient]:
    """The console for the test's topics, started, and a client of it."""
    assert settings.bootstrap_servers is not None
    platform = Platform(
        services={},
        registry=settings.schema_registry_url,
        kafka=settings.bootstrap_servers,
        topic_prefix=settings.topic_prefix,
        schemas=SCHEMAS,
    )
    app = console_app(platform, _NoProcesses(), messaging=settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://console") as client,
    ):
        yield client


@dataclass(frozen=True)
class Letter:
    """A dead letter the test made: its original topic and where it is in the dead letters."""

    topic: str
    partition: int
    offset: int
    original: str
    """Where the message was in its topic (``topic[partition]@offset``)."""


def _letter(notice: DeadLettered) -> Letter:
    return Letter(
        notice.topic,
        notice.delivery.partition,
        notice.delivery.offset,
        f"{notice.topic}[{notice.partition}]@{notice.offset}",
    )


def _bus(settings: MessagingSettings, letters: DeadLetterRecorder) -> EventBus:
    bus = EventBus(settings, service="orders")
    bus.on_dead_letter(letters)
    return bus


@pytest.fixture
async def garbage_letter(messaging_settings: MessagingSettings) -> Letter:
    """A message that is no wire frame, dead-lettered by the orders topic's subscriber."""
    letters = DeadLetterRecorder()
    bus = _bus(messaging_settings, letters)
    bus.subscriber(group="fulfilment", events=(OrderPlaced,))(EventRecorder())
    async with bus:
        topic = bus.topics.of(OrderPlaced)
        await bus.producer.send([Outgoing(topic, b"k", GARBAGE, [])])
        (notice,) = await letters.wait_for(1)
    return _letter(notice)


@pytest.fixture
async def failed_order(messaging_settings: MessagingSettings) -> tuple[Letter, OrderPlaced]:
    """An OrderPlaced whose handler failed, dead-lettered as the frame it arrived as."""

    async def fail(event: OrderPlaced, context: MessageContext) -> None:
        raise LookupError("no such customer")

    letters = DeadLetterRecorder()
    bus = _bus(messaging_settings, letters)
    bus.subscriber(group="fulfilment", events=(OrderPlaced,), retries=0)(fail)
    order = order_placed()
    async with bus:
        await bus.publish(order)
        (notice,) = await letters.wait_for(1)
    return _letter(notice), order


# -- listing ----------------------------------------------------------------------------------


async def test_overview_counts_a_topics_pending_letter(
    messaging_settings: MessagingSettings, garbage_letter: Letter
) -> None:
    """The overview counts the orders topic's one letter as pending, and none elsewhere."""
    async with _console(messaging_settings) as console:
        answer = await console.get("/api/dead-letters")
    assert answer.status_code == 200
    counts = {row["topic"]: (row["count"], row["pending"]) for row in answer.json()}
    prefix = messaging_settings.topic_prefix
    assert counts == {
        f"{prefix}{topic}": (1, 1) if topic == "orders" else (0, 0)
        for topic in load_catalog(SCHEMAS).topics
    }


async def test_a_topics_letter_is_listed_with_its_reason(
    messaging_settings: MessagingSettings, garbage_letter: Letter
) -> None:
    """A topic's list shows the letter's position, its reason and the error's type."""
    async with _console(messaging_settings) as console:
        answer = await console.get(f"/api/dead-letters/{garbage_letter.topic}")
    (row,) = answer.json()
    assert (row["partition"], row["offset"]) == (garbage_letter.partition, garbage_letter.offset)
    assert (row["reason"], row["error_type"]) == ("wire-format", "WireFormatError")
    assert (row["original"], row["group"]) == (garbage_letter.original, "fulfilment")
    assert (row["replayed"], row["size"]) == (False, len(GARBAGE))


async def test_the_dead_letter_topics_name_lists_the_same_letters(
    messaging_settings: MessagingSettings, garbage_letter: Letter
) -> None:
    """A topic named by its dead-letter topic (``….dlq``) lists the same letters."""
    async with _console(messaging_settings) as console:
        by_topic = await console.get(f"/api/dead-letters/{garbage_letter.topic}")
        by_dlq = await console.get(f"/api/dead-letters/{garbage_letter.topic}.dlq")
    assert by_dlq.json() == by_topic.json()


async def test_a_cluster_that_does_not_answer_is_unavailable() -> None:
    """Reading dead letters from a Kafka nobody listens for is a 503 problem, not a 500."""
    with socket.socket() as bound:  # bound, never listening: connections are refused
        bound.bind(("127.0.0.1", 0))
        silent = f"127.0.0.1:{bound.getsockname()[1]}"
        settings = MessagingSettings(bootstrap_servers=silent, topic_prefix="silent.")
        async with _console(settings) as console:
            answer = await console.get("/api/dead-letters/silent.orders")
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"


# -- one letter -------------------------------------------------------------------------------


async def test_a_frame_letter_shows_its_body_decoded(
    messaging_settings: MessagingSettings, failed_order: tuple[Letter, OrderPlaced]
) -> None:
    """A letter that is a frame shows its body decoded with its writer's schema, and its id."""
    letter, order = failed_order
    async with _console(messaging_settings) as console:
        answer = await console.get(
            f"/api/dead-letters/{letter.topic}/{letter.partition}/{letter.offset}"
        )
    document = answer.json()
    assert document["reason"] == "handler-failed"
    assert document["body"]["order_id"] == str(order.order_id)
    assert isinstance(document["schema_id"], int)
    assert "undecodable" not in document


async def test_an_undecodable_letter_shows_its_bytes_as_hex(
    messaging_settings: MessagingSettings, garbage_letter: Letter
) -> None:
    """A letter that is not a frame has no body, says why, and shows its bytes in hex."""
    letter = garbage_letter
    async with _console(messaging_settings) as console:
        answer = await console.get(
            f"/api/dead-letters/{letter.topic}/{letter.partition}/{letter.offset}"
        )
    document = answer.json()
    assert document["body"] is None
    assert document["undecodable"]
    assert document["hex"] == GARBAGE.hex(" ")


async def test_a_missing_offset_is_not_found(
    messaging_settings: MessagingSettings, garbage_letter: Letter
) -> None:
    """Asking for an offset that holds no letter is a 404 problem."""
    letter = garbage_letter
    async with _console(messaging_settings) as console:
        answer = await console.get(
            f"/api/dead-letters/{letter.topic}/{letter.partition}/{letter.offset + 5}"
        )
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


async def test_an_unknown_topic_is_not_found(messaging_settings: MessagingSettings) -> None:
    """A topic the catalog does not have is a 404 problem naming it."""
    async with _console(messaging_settings) as console:
        answer = await console.get("/api/dead-letters/no-such-topic")
    assert answer.status_code == 404
    assert answer.json()["id"] == "no-such-topic"


# -- replay -----------------------------------------------------------------------------------


@asynccontextmanager
async def _fixed_letter(
    settings: MessagingSettings,
) -> AsyncIterator[tuple[Letter, OrderPlaced, EventRecorder, EventBus]]:
    """An order dead-lettered by a handler that then recovers, its bus still running."""
    broken = True

    def handle(event: object, context: MessageContext) -> None:
        if broken:
            raise RuntimeError("inventory service unreachable")

    recorder, letters = EventRecorder(handle), DeadLetterRecorder()
    bus = _bus(settings, letters)
    bus.subscriber(group="fulfilment", events=(OrderPlaced,), retries=0)(recorder)
    order = order_placed()
    async with bus:
        await bus.publish(order)
        (notice,) = await letters.wait_for(1)
        broken = False
        yield _letter(notice), order, recorder, bus


def _replay_body(letter: Letter) -> dict[str, object]:
    return {"letters": [{"partition": letter.partition, "offset": letter.offset}]}


async def test_replay_redelivers_a_fixed_letter_once(
    messaging_settings: MessagingSettings,
) -> None:
    """A replayed letter reaches its subscriber again, exactly once."""
    async with (
        _fixed_letter(messaging_settings) as (letter, order, recorder, bus),
        _console(messaging_settings) as console,
    ):
        answer = await console.post(
            f"/api/dead-letters/{letter.topic}/replay", json=_replay_body(letter)
        )
        assert answer.status_code == 200
        assert [(r["partition"], r["offset"]) for r in answer.json()["replayed"]] == [
            (letter.partition, letter.offset)
        ]
        await recorder.wait_for(2)
        # Same key, so same partition: a duplicate replay would arrive before this one.
        sentinel = order_placed(order_id=order.order_id)
        await bus.publish(sentinel)
        await recorder.wait_for(3)
    assert recorder.events == [order, order, sentinel]


async def test_a_second_replay_skips_the_letter(messaging_settings: MessagingSettings) -> None:
    """Replaying a letter already replayed re-publishes nothing and says why."""
    async with (
        _fixed_letter(messaging_settings) as (letter, _, _, _),
        _console(messaging_settings) as console,
    ):
        url = f"/api/dead-letters/{letter.topic}/replay"
        await console.post(url, json=_replay_body(letter))
        answer = await console.post(url, json=_replay_body(letter))
    assert answer.json() == {
        "replayed": [],
        "skipped": [
            {"partition": letter.partition, "offset": letter.offset, "why": "already replayed"}
        ],
    }


async def test_a_replayed_letter_is_listed_as_replayed(
    messaging_settings: MessagingSettings,
) -> None:
    """After a replay the letter is listed as replayed, and no longer pending."""
    async with (
        _fixed_letter(messaging_settings) as (letter, _, _, _),
        _console(messaging_settings) as console,
    ):
        await console.post(f"/api/dead-letters/{letter.topic}/replay", json=_replay_body(letter))
        listed = (await console.get(f"/api/dead-letters/{letter.topic}")).json()
        overview = (await console.get("/api/dead-letters")).json()
    assert [row["replayed"] for row in listed] == [True]
    (counts,) = [(r["count"], r["pending"]) for r in overview if r["topic"] == letter.topic]
    assert counts == (1, 0)


async def test_replay_all_replays_every_pending_letter(
    messaging_settings: MessagingSettings,
) -> None:
    """``all: true`` replays the topic's letters without naming them."""
    async with (
        _fixed_letter(messaging_settings) as (letter, _, recorder, _),
        _console(messaging_settings) as console,
    ):
        answer = await console.post(f"/api/dead-letters/{letter.topic}/replay", json={"all": True})
        await recorder.wait_for(2)
    assert [(r["partition"], r["offset"]) for r in answer.json()["replayed"]] == [
        (letter.partition, letter.offset)
    ]


@pytest.mark.parametrize(
    "body",
    [{}, {"all": True, "letters": [{"partition": 0, "offset": 0}]}],
    ids=["neither", "both"],
)
async def test_replay_needs_either_letters_or_all(
    messaging_settings: MessagingSettings, body: dict[str, object]
) -> None:
    """A replay naming neither letters nor all, or both, is a 422 naming ``body.letters``."""
    topic = f"{messaging_settings.topic_prefix}orders"
    async with _console(messaging_settings) as console:
        answer = await console.post(f"/api/dead-letters/{topic}/replay", json=body)
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["body.letters"]


async def test_replay_of_an_unknown_topic_is_not_found(
    messaging_settings: MessagingSettings,
) -> None:
    """Replaying into a topic the catalog does not have is a 404 problem naming it."""
    async with _console(messaging_settings) as console:
        answer = await console.post("/api/dead-letters/no-such-topic/replay", json={"all": True})
    assert answer.status_code == 404
    assert answer.json()["id"] == "no-such-topic"


async def test_replay_of_a_missing_offset_is_not_found(
    messaging_settings: MessagingSettings, garbage_letter: Letter
) -> None:
    """Replaying an offset that holds no letter is a 404 problem, and replays nothing."""
    letter = garbage_letter
    missing = {"letters": [{"partition": letter.partition, "offset": letter.offset + 5}]}
    async with _console(messaging_settings) as console:
        answer = await console.post(f"/api/dead-letters/{letter.topic}/replay", json=missing)
        listed = (await console.get(f"/api/dead-letters/{letter.topic}")).json()
    assert answer.status_code == 404
    assert [row["replayed"] for row in listed] == [False]
