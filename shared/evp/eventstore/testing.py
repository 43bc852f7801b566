"""Test doubles of the outbox's collaborators: a publisher that records, fails or hangs."""

from __future__ import annotations

import asyncio
import dataclasses

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
    """A :class:`~evp.eventstore.outbox.RawPublisher` that keeps what it confirms.

    After ``fail_after`` confirmed messages it raises :class:`PublisherDown` for every
    further one; after ``hang_after`` it never confirms again (until cancelled), the way a
    process killed mid-batch never gets to record its progress.
    """

    def __init__(self, *, fail_after: int | None = None, hang_after: int | None = None) -> None:
        self.messages: list[PublishedMessage] = []
        self.fail_after = fail_after
        self.hang_after = hang_after
        self.hanging = asyncio.Event()

    async def publish_raw(
        self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
    ) -> None:
        """Confirm (record) the message, unless told to fail or hang by now."""
        if self.fail_after is not None and len(self.messages) >= self.fail_after:
            raise PublisherDown(f"publisher down after {self.fail_after} messages")
        if self.hang_after is not None and len(self.messages) >= self.hang_after:
            self.hanging.set()
            await asyncio.get_running_loop().create_future()
        self.messages.append(PublishedMessage(topic, key, value, list(headers)))
