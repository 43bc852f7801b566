"""Whether a reader class can read what a writer schema wrote, decided once per pair.

The codec resolves a writer's schema against the reader's field by field as it decodes,
and would only fail on the first value that does not fit. Consumers decide up front, with
the registry's own compatibility checker (the reader as the new schema, the writer as the
old one, ``BACKWARD``), so an unreadable writer is dead-lettered with every reason at once,
and a readable one is never checked again.
"""

from __future__ import annotations

import threading

from evp.avro.record import Event
from evp.schema.compatibility import CompatibilityLevel, check
from evp.schema.resolution import Problem

__all__ = ["ReadVerdicts"]


class ReadVerdicts:
    """Cached verdicts per (writer schema id, reader class); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._verdicts: dict[tuple[int, type[Event]], tuple[Problem, ...]] = {}

    def problems(
        self, schema_id: int, writer_schema: str, reader: type[Event]
    ) -> tuple[Problem, ...]:
        """Why ``reader`` cannot read data written as ``schema_id``; empty when it can."""
        key = (schema_id, reader)
        found = self._verdicts.get(key)
        if found is not None:
            return found
        if writer_schema == reader.AVRO_SCHEMA:
            problems: tuple[Problem, ...] = ()
        else:
            result = check(reader.AVRO_SCHEMA, [writer_schema], CompatibilityLevel.BACKWARD)
            problems = result.problems
        with self._lock:
            self._verdicts[key] = problems
        return problems

    def __len__(self) -> int:
        return len(self._verdicts)
