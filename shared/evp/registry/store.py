"""What the registry needs from its storage, as Protocols, and the records it exchanges.

Every operation that writes runs inside one :class:`RegistryTransaction`. Ids and versions
are assigned inside it, after taking the locks it offers, so that several registry
processes sharing one database agree without any in-process state. Operations that only
read use :class:`RegistryReads`, which needs no transaction: at Postgres's READ COMMITTED
each statement sees a snapshot of its own either way, so a transaction around reads would
add two round trips (BEGIN, COMMIT) and no consistency. The Postgres adapter is in
:mod:`evp.registry.postgres_store`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from evp.schema.parsed import Reference

__all__ = [
    "GLOBAL_SCOPE",
    "RegistryReads",
    "RegistryStore",
    "RegistryTransaction",
    "Setting",
    "StoredSchema",
    "SubjectVersion",
]

# The scope of global settings; never a valid subject, since subjects may not be empty.
GLOBAL_SCOPE = ""


class Setting(StrEnum):
    """The kinds of setting kept globally and per subject."""

    CONFIG = "config"
    """Confluent's Config entity as JSON (see :class:`~evp.registry.config.Config`)."""
    MODE = "mode"


@dataclass(frozen=True)
class StoredSchema:
    """A schema under its global id: canonical text, references and fingerprint."""

    id: int
    text: str
    references: tuple[Reference, ...]
    fingerprint: str


@dataclass(frozen=True)
class SubjectVersion:
    """One version of a subject and the schema id it points at."""

    subject: str
    version: int
    schema_id: int
    deleted: bool = False


class RegistryReads(Protocol):
    """Reads of one registry operation, each statement seeing the latest committed state."""

    async def subjects(self, *, prefix: str, deleted: bool, deleted_only: bool) -> list[str]:
        """Subjects with a live version (or, with ``deleted``, any), sorted."""

    async def versions(self, subject: str, *, deleted: bool) -> list[SubjectVersion]:
        """Versions of ``subject``, oldest first; soft-deleted ones only with ``deleted``."""

    async def version(self, subject: str, version: int) -> SubjectVersion | None:
        """One version of ``subject``, soft-deleted or not."""

    async def find(self, subject: str, fingerprint: str, *, deleted: bool) -> SubjectVersion | None:
        """The newest version of ``subject`` holding the schema with ``fingerprint``."""

    async def schema(self, schema_id: int) -> StoredSchema | None:
        """The schema with ``schema_id``, if any subject version still holds it."""

    async def schema_ids(self, fingerprint: str) -> list[int]:
        """Ids of the schemas with ``fingerprint``, lowest first."""

    async def usages(self, schema_id: int, *, deleted: bool) -> list[SubjectVersion]:
        """The subject versions holding ``schema_id``, by subject then version."""

    async def referenced_by(self, subject: str, version: int) -> list[int]:
        """Ids of the schemas whose references name ``subject`` at ``version``, sorted;
        only schemas a live (not soft-deleted) version holds, as in Confluent's registry."""

    async def setting(self, kind: Setting, scope: str) -> str | None:
        """The value of ``kind`` set for ``scope`` (a subject or :data:`GLOBAL_SCOPE`)."""

    async def settings(self, kind: Setting, scopes: Sequence[str]) -> dict[str, str]:
        """The values of ``kind`` set for each of ``scopes`` that has one, in one read."""

    async def max_schema_id(self) -> int:
        """The highest schema id held (0 when there is none)."""


class RegistryTransaction(RegistryReads, Protocol):
    """Reads and writes of one registry operation, committed or rolled back together."""

    async def lock_subject(self, subject: str, *, shared: bool = False) -> None:
        """Serialise writers of ``subject`` until the transaction ends.

        A ``shared`` lock only keeps ``subject`` from changing (a schema referencing it is
        being registered); shared holders do not wait for each other.
        """

    async def lock_schema(self, fingerprint: str) -> None:
        """Serialise writers registering the schema with ``fingerprint``."""

    async def lock_registry(self) -> None:
        """Serialise registry-wide changes (the global mode)."""

    async def add_schema(
        self,
        text: str,
        references: Sequence[Reference],
        fingerprint: str,
        schema_id: int | None = None,
    ) -> int:
        """Store a schema under ``schema_id``, or under the next free id; return the id."""

    async def add_version(self, subject: str, version: int, schema_id: int) -> None:
        """Record ``schema_id`` as ``version`` of ``subject``."""

    async def mark_deleted(self, subject: str, versions: Sequence[int]) -> None:
        """Soft-delete ``versions`` of ``subject``."""

    async def purge(self, subject: str, versions: Sequence[int]) -> None:
        """Delete ``versions`` of ``subject`` for good, and schemas no version holds any more."""

    async def put_setting(self, kind: Setting, scope: str, value: str) -> None:
        """Set ``kind`` for ``scope``."""

    async def delete_setting(self, kind: Setting, scope: str) -> None:
        """Remove ``kind`` for ``scope``."""

    async def delete_settings(self, kind: Setting) -> None:
        """Remove ``kind`` for every scope, the global one included."""


class RegistryStore(Protocol):
    """Storage of the registry: hands out transactions."""

    def transaction(self) -> AbstractAsyncContextManager[RegistryTransaction]:
        """A transaction, committed when the block exits normally and rolled back otherwise."""

    def reads(self) -> AbstractAsyncContextManager[RegistryReads]:
        """Reads outside any transaction, for operations that change nothing."""

    def watch_purges(
        self, forget: Callable[[frozenset[int] | None], None]
    ) -> AbstractAsyncContextManager[None]:
        """Within the block, call ``forget`` with the schema ids that any process sharing
        the storage purged, once the purge committed; ``None`` when any may have been (say,
        notices were lost while the watch reconnected)."""

    async def close(self) -> None:
        """Release connections."""
