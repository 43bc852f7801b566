"""A bounded cache of parsed schemas by id.

A stored schema never changes under its id, so a parse is valid for as long as the id
exists: a FULL_TRANSITIVE check against a hundred versions parses none of them twice.
"""

from __future__ import annotations

from collections import OrderedDict

from evp.registry.schema import ParsedSchema

__all__ = ["SchemaCache"]


class SchemaCache:
    """Least-recently-used map of schema id to :class:`ParsedSchema`, with hit counters."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[int, ParsedSchema] = OrderedDict()

    def get(self, schema_id: int) -> ParsedSchema | None:
        """The cached parse of ``schema_id``, if any."""
        parsed = self._entries.get(schema_id)
        if parsed is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(schema_id)
        return parsed

    def put(self, schema_id: int, parsed: ParsedSchema) -> None:
        """Remember the parse of ``schema_id``; past capacity, forget the least recently used."""
        self._entries[schema_id] = parsed
        self._entries.move_to_end(schema_id)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def discard(self, schema_ids: set[int]) -> None:
        """Forget ``schema_ids`` (their schemas were deleted for good)."""
        for schema_id in schema_ids:
            self._entries.pop(schema_id, None)

    def __len__(self) -> int:
        return len(self._entries)
