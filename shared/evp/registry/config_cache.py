"""Configs read recently, so that a lookup does not read the same config every time.

Every lookup needs the subject's config and the global one (``normalize`` may apply).
A write in this process empties the cache once it has committed, and a read that started
before a write is not kept, so this process reads its own writes. A write made by another
registry process sharing the database is seen within :data:`TTL_S`, the staleness that
Confluent's followers, reading their Kafka store, show too.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from evp.registry.config import Config

__all__ = ["TTL_S", "ConfigCache"]

TTL_S = 1.0
_LIMIT = 10_000  # subjects kept at most; past it the cache starts over


class ConfigCache:
    """Effective configs by subject (``None``: the global one), each kept for ``ttl``."""

    def __init__(self, ttl: float = TTL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str | None, tuple[float, Config]] = {}
        self.generation = 0
        """Moves on every change: a read begun under an older one is not kept."""

    def get(self, subject: str | None) -> Config | None:
        """The config kept for ``subject`` if it is still fresh."""
        entry = self._entries.get(subject)
        if entry is None or entry[0] <= self._clock():
            return None
        return entry[1]

    def put(self, subject: str | None, config: Config, generation: int) -> None:
        """Keep ``config``, read while the cache was at ``generation``, unless it changed."""
        if generation != self.generation:
            return
        if len(self._entries) >= _LIMIT:
            self._entries.clear()
        self._entries[subject] = (self._clock() + self._ttl, config)

    def changed(self) -> None:
        """Configs were written: forget every kept one, and any read under way."""
        self.generation += 1
        self._entries.clear()
