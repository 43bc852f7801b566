"""Bounded caches of immutable schema facts: by id, and by the request text parsed.

A stored schema never changes under its id (ids come from a sequence and are not reused),
so its text and its parse are valid for as long as the id exists: a FULL_TRANSITIVE check
against a hundred versions parses none of them twice, and ``GET /schemas/ids/{id}`` needs
no database round trip once the id has been seen. A schema text without references
always parses to the same result, so a lookup of a text seen before skips Avro's parser.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

__all__ = ["SchemaCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SchemaCache(Generic[K, V]):
    """Least-recently-used map of a key (an id, a text) to a schema, counting hits."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The schema cached under ``key``, if any."""
        value = self._entries.get(key)
        if value is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        """Remember ``value`` under ``key``; past capacity, forget the least recently used."""
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def discard(self, keys: Iterable[K]) -> None:
        """Forget ``keys`` (say, ids whose schemas were deleted for good)."""
        for key in keys:
            self._entries.pop(key, None)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
