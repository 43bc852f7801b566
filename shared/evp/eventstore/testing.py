"""Test doubles of the outbox's collaborators: a publisher that records, fails, refuses or hangs."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable

from evp.messaging.topics import TopicNames

__all__ = ["PublishedMessage", "PublisherDown", "RecordingPublisher"]


@dataclasses.dataclass(frozen=True, slots=True)
class PublishedMessage:
    """One message as the publisher received it."""

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]

    def header(self, name: str) -> bytes | None:
        """The value of header ``name``, if set."""
        return next((value for key, value in self.headers if key == name), None)


class PublisherDown(ConnectionError):
    """Raised by :class:`RecordingPublisher` once it was told to fail."""


class RecordingPublisher:
    """An :class:`~evp.eventstore.outbox.Outlet` that keeps what it confirms.

    ``topics`` names the deployment's topics, as the bus's do (default: no prefix). After
    ``fail_after`` confirmed messages it raises :class:`PublisherDown` for every further
    one; after ``hang_after`` it never confirms again (until cancelled), the way a process
    killed mid-batch never gets to record its progress. ``refuse`` answers, for a message,
    the error to raise instead of confirming it (``None``: confirm), the way a broker
    refuses a frame for good.
    """

    def __init__(
        self,
        *,
        topics: TopicNames | None = None,
        fail_after: int | None = None,
        hang_after: int | None = None,
        refuse: Callable[[PublishedMessage], Exception | None] | None = None,
    ) -> None:
        self.topics = topics or TopicNames()
        self.messages: list[PublishedMessage] = []
        self.fail_after = fail_after
        self.hang_after = hang_after
        self.refuse = refuse
        self.hanging = asyncio.Event()

    async def publish_raw(
        self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
    ) -> None:
        """Confirm (record) the message, unless told to fail, refuse or hang by now."""
        if self.fail_after is not None and len(self.messages) >= self.fail_after:
            raise PublisherDown(f"publisher down after {self.fail_after} messages")
        if self.hang_after is not None and len(self.messages) >= self.hang_after:
            self.hanging.set()
            await asyncio.get_running_loop().create_future()
        message = PublishedMessage(topic, key, value, list(headers))
        refusal = self.refuse(message) if self.refuse is not None else None
        if refusal is not None:
            raise refusal
        self.messages.append(message)
