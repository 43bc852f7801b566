"""The dead letters page: each topic's dead letters, one letter decoded, and replay.

A thin layer over :class:`~evp.messaging.dead_letter_queue.DeadLetterQueue` (what ``evp dlq``
uses), so the page and the command agree on what a letter is, how it decodes and that a
replayed letter is not replayed twice. Reading Kafka and the registry blocks: it runs in a
thread, never on the console's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from evp.avro import AvroError
from evp.messaging import DeadLetter, EventBus, MessagingSettings, RegistrySchemaLookup
from evp.messaging.dead_letter_queue import DeadLetterQueue, decoded_body
from evp.messaging.errors import BrokerError, DeadLetterNotFound
from evp.messaging.topics import TopicNames
from evp.web.errors import NotFound, Unavailable

__all__ = ["DeadLetters"]

_PREVIEW = 160


class DeadLetters:
    """Dead letters of the platform's topics; replays through a bus of its own."""

    def __init__(self, settings: MessagingSettings, topics: Iterable[str]) -> None:
        """``topics``: the logical topics of the catalog (``orders``), without prefix."""
        assert settings.bootstrap_servers, "the console reads a running cluster"
        self._settings = settings
        self._names = TopicNames(settings.topic_prefix)
        self.topics = [self._names.topic(topic) for topic in topics]
        self._queue = DeadLetterQueue.from_settings(
            settings, bootstrap_servers=settings.bootstrap_servers
        )
        self._lookup = RegistrySchemaLookup.from_settings(settings)
        self._bus: EventBus | None = None
        self._bus_lock = asyncio.Lock()

    async def close(self) -> None:
        """Close the replay bus and the registry client, if they were opened."""
        if self._bus is not None:
            await self._bus.stop()
            self._bus = None
        self._lookup.close()

    async def overview(self) -> list[dict[str, Any]]:
        """Per topic: its dead-letter topic, how many letters, how many not yet replayed."""
        counts = await asyncio.gather(*(self._letters(topic) for topic in self.topics))
        return [
            {
                "topic": topic,
                "dead_letter_topic": TopicNames.dead_letter(topic),
                "count": len(letters),
                "pending": sum(not letter.replayed for letter in letters),
            }
            for topic, letters in zip(self.topics, counts, strict=True)
        ]

    async def letters(self, topic: str) -> list[dict[str, Any]]:
        """Every dead letter of ``topic``, oldest first, as list rows."""
        return [_row(letter) for letter in await self._letters(self._known(topic))]

    async def letter(self, topic: str, partition: int, offset: int) -> dict[str, Any]:
        """One letter in full: reason, problems, headers, and its body decoded if it can be."""
        known = self._known(topic)
        try:
            with _kafka():
                letter = await asyncio.to_thread(
                    self._queue.letter, known, offset, partition=partition
                )
        except DeadLetterNotFound:
            raise NotFound("dead letter", f"{known}[{partition}]@{offset}") from None
        document = _row(letter)
        document["headers"] = [[name, _text_or_hex(value)] for name, value in letter.headers]
        document["problems"] = [
            {
                "type": str(problem.type),
                "path": problem.path,
                "description": problem.description(),
                "reader": str(problem.reader),
                "writer": str(problem.writer),
            }
            for problem in letter.problems
        ]
        try:
            schema_id, body = await asyncio.to_thread(decoded_body, letter, self._lookup)
        except AvroError as error:
            document["body"] = None
            document["undecodable"] = str(error)
            document["hex"] = letter.value[:4096].hex(" ")
        else:
            document["schema_id"] = schema_id
            document["body"] = json.loads(json.dumps(body, default=str))
        return document

    async def replay(
        self, topic: str, positions: Sequence[tuple[int, int]] | None
    ) -> dict[str, Any]:
        """Re-publish the letters at ``positions`` ((partition, offset) pairs; all if None)."""
        known = self._known(topic)
        bus = await self._replay_bus()
        if positions is None:
            with _kafka():
                reports = [
                    await self._queue.replay(known, publisher=bus.publisher, producer=bus.producer)
                ]
        else:
            by_partition: dict[int, list[int]] = {}
            for partition, offset in positions:
                by_partition.setdefault(partition, []).append(offset)
            reports = []
            for partition, offsets in sorted(by_partition.items()):
                try:
                    with _kafka():
                        report = await self._queue.replay(
                            known,
                            publisher=bus.publisher,
                            producer=bus.producer,
                            offsets=offsets,
                            partition=partition,
                        )
                except DeadLetterNotFound as error:
                    raise NotFound("dead letter", str(error)) from None
                reports.append(report)
        return {
            "replayed": [
                {**_position(letter), "to": f"{d.topic}[{d.partition}]@{d.offset}"}
                for report in reports
                for letter, d in report.replayed
            ],
            "skipped": [
                {**_position(letter), "why": why}
                for report in reports
                for letter, why in report.skipped
            ],
        }

    def _known(self, topic: str) -> str:
        original = topic.removesuffix(".dlq")
        if original not in self.topics:
            raise NotFound("topic", topic)
        return original

    async def _letters(self, topic: str) -> list[DeadLetter]:
        with _kafka():
            return await asyncio.to_thread(self._queue.letters, topic)

    async def _replay_bus(self) -> EventBus:
        async with self._bus_lock:
            if self._bus is None:
                bus = EventBus(self._settings, service="evp-console")
                await bus.start(consume=False)
                self._bus = bus
            return self._bus


@contextlib.contextmanager
def _kafka() -> Iterator[None]:
    """Kafka not answering is a dependency down (503), not the console failing (500)."""
    try:
        yield
    except BrokerError as error:
        raise Unavailable(f"Kafka did not answer: {error}", dependency="kafka") from error


def _position(letter: DeadLetter) -> dict[str, Any]:
    return {"partition": letter.partition, "offset": letter.offset}


def _row(letter: DeadLetter) -> dict[str, Any]:
    message = " ".join(letter.error_message.split())
    return {
        **_position(letter),
        "topic": letter.topic,
        "reason": letter.reason,
        "error_type": letter.error_type,
        "error_message": message if len(message) <= _PREVIEW else message[: _PREVIEW - 1] + "…",
        "original": f"{letter.original_topic}[{letter.original_partition}]"
        f"@{letter.original_offset}",
        "original_timestamp": (
            letter.original_timestamp.isoformat() if letter.original_timestamp else None
        ),
        "group": letter.group,
        "attempts": letter.attempts,
        "replayed": letter.replayed,
        "key": _text_or_hex(letter.key),
        "size": len(letter.value),
    }


def _text_or_hex(value: bytes | None) -> str | None:
    if value is None:
        return None
    with contextlib.suppress(UnicodeDecodeError):
        text = value.decode()
        if text.isprintable():
            return text
    return "0x" + value.hex()
