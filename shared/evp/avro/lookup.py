"""Where the codec gets schema ids and writer schemas: a Protocol, and an in-memory peer.

The HTTP registry client implements the same Protocol; the in-memory one assigns ids the way
a registry does (one global id per distinct schema text, versions per subject), so tests and
the offline demo run the very same encoding path as production.
"""

from __future__ import annotations

import threading
from typing import Protocol

from evp.avro.errors import AvroError, UnknownSchemaId

__all__ = ["InMemorySchemaLookup", "SchemaLookup", "SchemaNotRegistered"]


class SchemaNotRegistered(AvroError):
    """The schema is not registered under the subject, so nothing may be written with it."""

    def __init__(self, subject: str) -> None:
        super().__init__(
            f"schema of subject {subject} is not registered; run `evp schemas register`",
            subject=subject,
        )
        self.subject = subject


class SchemaLookup(Protocol):
    """Resolves schema ids both ways. Implementations may block; the codec caches answers."""

    def schema_by_id(self, schema_id: int) -> str:
        """The schema text registered under ``schema_id``; raises :class:`UnknownSchemaId`."""
        ...

    def id_for(self, subject: str, schema: str) -> int:
        """The id of ``schema`` under ``subject``; raises :class:`SchemaNotRegistered`."""
        ...


class InMemorySchemaLookup:
    """A registry held in memory: global ids, per-subject versions, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: dict[str, int] = {}
        self._schemas: dict[int, str] = {}
        self._subjects: dict[str, list[int]] = {}

    def register(self, subject: str, schema: str) -> int:
        """Register ``schema`` under ``subject`` (idempotent) and return its global id."""
        with self._lock:
            schema_id = self._ids.get(schema)
            if schema_id is None:
                schema_id = len(self._schemas) + 1
                self._ids[schema] = schema_id
                self._schemas[schema_id] = schema
            versions = self._subjects.setdefault(subject, [])
            if schema_id not in versions:
                versions.append(schema_id)
            return schema_id

    def schema_by_id(self, schema_id: int) -> str:
        """The schema text registered under ``schema_id``."""
        try:
            return self._schemas[schema_id]
        except KeyError:
            raise UnknownSchemaId(schema_id) from None

    def id_for(self, subject: str, schema: str) -> int:
        """The id of ``schema`` when it is registered under ``subject``."""
        schema_id = self._ids.get(schema)
        if schema_id is None or schema_id not in self._subjects.get(subject, ()):
            raise SchemaNotRegistered(subject)
        return schema_id

    def versions(self, subject: str) -> list[int]:
        """The schema ids of ``subject``'s versions, oldest first."""
        return list(self._subjects.get(subject, ()))
