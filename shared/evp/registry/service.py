"""The registry's semantics, as Confluent's Schema Registry defines them, without HTTP.

Ids are global: a schema (by canonical text and references) registered under any subject
keeps the id it first got. Versions count up per subject and are never reused while a
soft-deleted version is kept. Every operation that writes is one store transaction;
registrations take the subject's lock before reading its versions, so concurrent registry
processes assign versions (and check compatibility) one at a time per subject. Operations
that only read run without a transaction (see :mod:`evp.registry.store`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from evp.registry._translate import schema_errors
from evp.registry.cache import SchemaCache
from evp.registry.configuration import Configuration
from evp.registry.errors import (
    IdMismatchError,
    IncompatibleSchemaError,
    InvalidSchemaError,
    OperationNotPermittedError,
    ReferenceExistsError,
    SchemaNotFoundError,
    SchemaTooLargeError,
    SubjectNotFoundError,
    SubjectNotSoftDeletedError,
    SubjectSoftDeletedError,
    VersionNotFoundError,
    VersionNotSoftDeletedError,
    VersionSoftDeletedError,
)
from evp.registry.mode import Mode
from evp.registry.requests import LATEST, SchemaRequest, is_storable, validate_subject
from evp.registry.resolver import MAX_CACHED_TEXT, SchemaResolver, stored_schema
from evp.registry.store import (
    RegistryReads,
    RegistryStore,
    RegistryTransaction,
    StoredSchema,
    SubjectVersion,
)
from evp.registry.validation import validate_strictly
from evp.schema.canonical import canonical_form
from evp.schema.compatibility import (
    CompatibilityLevel,
    CompatibilityResult,
    VersionedSchema,
    check,
)
from evp.schema.parsed import ParsedSchema, Reference

__all__ = ["MAX_SCHEMA_BYTES", "RegisteredVersion", "Registry"]

# Confluent's registry refuses schemas that do not fit a default Kafka record.
MAX_SCHEMA_BYTES = 1024 * 1024


@dataclass(frozen=True)
class RegisteredVersion:
    """A schema as registered under one subject version."""

    subject: str
    version: int
    id: int
    schema: str
    references: tuple[Reference, ...] = ()
    deleted: bool = False


class Registry(Configuration):
    """Schema registry operations over a :class:`~evp.registry.store.RegistryStore`."""

    def __init__(
        self,
        store: RegistryStore,
        *,
        cache: SchemaCache[int, ParsedSchema] | None = None,
        default_compatibility: CompatibilityLevel = CompatibilityLevel.BACKWARD,
    ) -> None:
        super().__init__(store, default_compatibility)
        self.cache: SchemaCache[int, ParsedSchema] = cache or SchemaCache()
        # Stored schemas by id, for reads by id: an id's text and references never change.
        self.stored: SchemaCache[int, StoredSchema] = SchemaCache()
        self._purges = 0
        self.resolver = SchemaResolver(self.cache)

    # -- schemas under subjects -------------------------------------------------------

    async def register(
        self,
        subject: str,
        request: SchemaRequest,
        *,
        normalize: bool = False,
        force: bool = False,
    ) -> int:
        """Register ``request`` under ``subject`` and return its global id.

        ``normalize`` also applies when the subject's config (or the global one) sets it,
        except in IMPORT mode; ``force`` skips the compatibility check.
        """
        validate_subject(subject)
        size = len(request.schema.encode())
        if size > MAX_SCHEMA_BYTES:
            raise SchemaTooLargeError(size, MAX_SCHEMA_BYTES)
        purged: set[int] = set()
        async with self.store.transaction() as tx:
            subject = await self._aliased(tx, subject)
            await _lock_for_registration(tx, subject, request.references)
            mode = await self._effective_mode(tx, subject)
            config = await self._effective_config(tx, subject)
            normalize = normalize or (bool(config.normalize) and mode is not Mode.IMPORT)
            candidate = await self.resolver.requested(tx, request, normalize=normalize)
            existing = await self._find(tx, subject, candidate, normalize=normalize, deleted=False)
            if existing is not None and not _reimport_elsewhere(mode, request, existing):
                if request.id is not None and request.id != existing.schema_id:
                    raise IdMismatchError(subject, existing.schema_id, request.id)
                return existing.schema_id
            _check_register_mode(subject, mode, request)
            if config.validates and mode is not Mode.IMPORT:
                validate_strictly(candidate, subject=subject)
            every = await tx.versions(subject, deleted=True)
            if mode is not Mode.IMPORT and not force:
                live = [v for v in every if not v.deleted]
                result = await self._check(tx, subject, candidate, live)
                if not result.is_compatible:
                    raise IncompatibleSchemaError(subject, result)
            next_version = max((v.version for v in every), default=0) + 1
            # Compare-and-set: a version given outside IMPORT mode must be the next one.
            requested = request.version
            if requested is not None and requested != next_version and mode is not Mode.IMPORT:
                raise InvalidSchemaError(
                    "Version is not one more than previous version", subject=subject
                )
            schema_id = await self._schema_id(tx, candidate, request.id)
            version = request.version or next_version
            # Only IMPORT mode can name a version that exists: the compare-and-set above
            # refuses it otherwise.
            taken = next((v for v in every if v.version == version), None)
            if taken is not None:
                if taken.schema_id == schema_id and not taken.deleted:
                    return schema_id
                # As Confluent's registry: an import writes over the version it names.
                await tx.purge(subject, [version])
                purged.add(taken.schema_id)
                every.remove(taken)
                schema_id = await self._schema_id(tx, candidate, schema_id)
            await tx.add_version(subject, version, schema_id)
            # As in Confluent's registry: re-registering a soft-deleted schema drops the
            # older deleted version that held the same id (unless something references it).
            stale = [
                v.version
                for v in every
                if v.deleted
                and v.schema_id == schema_id
                and v.version < version
                and not await tx.referenced_by(subject, v.version)
            ]
            if stale:
                await tx.purge(subject, stale)
                purged |= {v.schema_id for v in every if v.version in stale}
        if purged:
            self.forget(purged)
        self.cache.put(schema_id, candidate)
        return schema_id

    async def lookup(
        self,
        subject: str,
        request: SchemaRequest,
        *,
        normalize: bool = False,
        deleted: bool = False,
    ) -> RegisteredVersion:
        """The version of ``subject`` holding the schema in ``request``.

        With ``normalize`` (asked for, or set in the config), a version registered without
        normalization is found too when its normal form is the candidate's.
        """
        _require_known(subject)
        async with self.store.reads() as reads:
            subject, config = await self._aliased_config(reads, subject)
            normalize = normalize or bool(config.normalize)
            candidate = await self.resolver.requested(reads, request, normalize=normalize)
            match = await self._find(
                reads, subject, candidate, normalize=normalize, deleted=deleted
            )
            if match is None:
                if await reads.versions(subject, deleted=deleted):
                    raise SchemaNotFoundError(subject=subject)
                raise SubjectNotFoundError(subject)
        # The match holds a schema with the candidate's fingerprint, a hash of canonical
        # text and references: what is stored is the candidate, so there is none to read.
        stored = await self.schema(match.schema_id)
        return RegisteredVersion(
            match.subject, match.version, stored.id, stored.text, stored.references, match.deleted
        )

    async def subjects(
        self, *, prefix: str = "", deleted: bool = False, deleted_only: bool = False
    ) -> list[str]:
        """Subject names, sorted."""
        if not is_storable(prefix):
            return []
        async with self.store.reads() as reads:
            return await reads.subjects(prefix=prefix, deleted=deleted, deleted_only=deleted_only)

    async def versions(
        self, subject: str, *, deleted: bool = False, deleted_only: bool = False
    ) -> list[int]:
        """Version numbers of ``subject``."""
        _require_known(subject)
        async with self.store.reads() as reads:
            subject = await self._aliased(reads, subject)
            found = await reads.versions(subject, deleted=deleted or deleted_only)
        if not found:
            raise SubjectNotFoundError(subject)
        return [v.version for v in found if v.deleted or not deleted_only]

    async def version(
        self, subject: str, version: int, *, deleted: bool = False
    ) -> RegisteredVersion:
        """One version of ``subject`` (:data:`LATEST` for the latest live one)."""
        _require_known(subject)
        async with self.store.reads() as reads:
            subject = await self._aliased(reads, subject)
            found = await self._resolve(reads, subject, version, deleted=deleted)
            return await self._registered(reads, found)

    async def referenced_by(self, subject: str, version: int) -> list[int]:
        """Ids of the schemas referencing ``version`` of ``subject``."""
        _require_known(subject)
        async with self.store.reads() as reads:
            subject = await self._aliased(reads, subject)
            found = await self._resolve(reads, subject, version, deleted=True)
            return await reads.referenced_by(subject, found.version)

    async def delete_version(self, subject: str, version: int, *, permanent: bool = False) -> int:
        """Soft-delete ``version`` of ``subject`` (or purge a soft-deleted one); return it."""
        _require_known(subject)
        async with self._writing() as tx:
            subject = await self._aliased(tx, subject)
            await tx.lock_subject(subject)
            await self._require_writable(tx, subject)
            if version == LATEST:
                version = (await self._resolve(tx, subject, LATEST, deleted=False)).version
            found = await tx.version(subject, version)
            if found is None:
                if await tx.versions(subject, deleted=True):
                    raise VersionNotFoundError(subject, version)
                raise SubjectNotFoundError(subject)
            if found.deleted and not permanent:
                raise VersionSoftDeletedError(subject, version)
            await self._refuse_if_referenced(tx, subject, [version])
            if permanent and not found.deleted:
                raise VersionNotSoftDeletedError(subject, version)
            if not permanent:
                await tx.mark_deleted(subject, [version])
                if not await tx.versions(subject, deleted=False):
                    await self._forget_subject_settings(tx, subject)
                return version
            await tx.purge(subject, [version])
        self.forget({found.schema_id})
        return version

    async def delete_subject(self, subject: str, *, permanent: bool = False) -> list[int]:
        """Soft-delete every version of ``subject`` (or purge a soft-deleted subject)."""
        _require_known(subject)
        async with self._writing() as tx:
            subject = await self._aliased(tx, subject)
            await tx.lock_subject(subject)
            await self._require_writable(tx, subject)
            every = await tx.versions(subject, deleted=True)
            if not every:
                raise SubjectNotFoundError(subject)
            live = [v.version for v in every if not v.deleted]
            if not permanent:
                if not live:
                    raise SubjectSoftDeletedError(subject)
                await self._refuse_if_referenced(tx, subject, live)
                await tx.mark_deleted(subject, live)
                await self._forget_subject_settings(tx, subject)
                return live
            if live:
                raise SubjectNotSoftDeletedError(subject)
            doomed = [v.version for v in every]
            await self._refuse_if_referenced(tx, subject, doomed)
            await tx.purge(subject, doomed)
        self.forget({v.schema_id for v in every})
        return doomed

    # -- schemas by id -----------------------------------------------------------------

    async def max_schema_id(self) -> int:
        """The highest schema id the registry holds (``fetchMaxId``)."""
        async with self.store.reads() as reads:
            return await reads.max_schema_id()

    async def schema(self, schema_id: int) -> StoredSchema:
        """The schema with ``schema_id``."""
        cached = self.stored.get(schema_id)
        if cached is not None:
            return cached
        purges = self._purges
        async with self.store.reads() as reads:
            found = await stored_schema(reads, schema_id)
        # Unless a purge committed meanwhile: the schema read may be one it deleted.
        if purges == self._purges and len(found.text) <= MAX_CACHED_TEXT:
            self.stored.put(schema_id, found)
        return found

    async def schema_in(self, schema_id: int, subject: str) -> tuple[StoredSchema, SubjectVersion]:
        """The schema with ``schema_id`` and the version holding it under ``subject``.

        As Confluent's ``GET /schemas/ids/{id}?subject=``: soft-deleted versions count, the
        newest of ``subject``'s wins, and when ``subject`` holds no version of the id, any
        subject version that does answers instead (the first by subject and version).
        """
        stored = await self.schema(schema_id)
        async with self.store.reads() as reads:
            holders = await reads.usages(schema_id, deleted=True)
        if not holders:
            raise SchemaNotFoundError(schema_id)
        own = [holder for holder in holders if holder.subject == subject]
        return stored, own[-1] if own else holders[0]

    async def usages(self, schema_id: int, *, deleted: bool = False) -> list[SubjectVersion]:
        """The subject versions holding ``schema_id``."""
        async with self.store.reads() as reads:
            await stored_schema(reads, schema_id)
            return await reads.usages(schema_id, deleted=deleted)

    # -- compatibility -----------------------------------------------------------------

    async def test_compatibility(
        self,
        subject: str,
        request: SchemaRequest,
        version: int | None = None,
        *,
        normalize: bool = False,
    ) -> CompatibilityResult:
        """Check ``request`` against ``version`` of ``subject``, or (``None``) per its level."""
        _require_known(subject)
        async with self.store.reads() as reads:
            subject, config = await self._aliased_config(reads, subject)
            normalize = normalize or bool(config.normalize)
            candidate = await self.resolver.requested(reads, request, normalize=normalize)
            if version is None:
                against = await reads.versions(subject, deleted=False)
            elif version == LATEST:
                against = (await reads.versions(subject, deleted=False))[-1:]
            else:
                against = [await self._resolve(reads, subject, version, deleted=False)]
            return await self._check(reads, subject, candidate, against)

    # -- helpers -----------------------------------------------------------------------

    async def _check(
        self,
        tx: RegistryReads,
        subject: str,
        candidate: ParsedSchema,
        live: list[SubjectVersion],
    ) -> CompatibilityResult:
        level = await self._effective_compatibility(tx, subject)
        if level is CompatibilityLevel.NONE:
            return CompatibilityResult(level)
        # Only parse what the level will look at: the latest version unless transitive.
        relevant = live if level.transitive else live[-1:]
        existing = [
            VersionedSchema(v.version, await self.resolver.stored(tx, v.schema_id))
            for v in relevant
        ]
        with schema_errors(subject=subject):
            return check(candidate, existing, level)

    async def _schema_id(
        self, tx: RegistryTransaction, candidate: ParsedSchema, requested: int | None
    ) -> int:
        await tx.lock_schema(candidate.fingerprint)
        if requested is None:
            known = await tx.schema_ids(candidate.fingerprint)
            if known:
                return known[0]
            return await tx.add_schema(
                candidate.canonical, candidate.references, candidate.fingerprint
            )
        holder = await tx.schema(requested)
        if holder is None:
            return await tx.add_schema(
                candidate.canonical, candidate.references, candidate.fingerprint, requested
            )
        if holder.fingerprint != candidate.fingerprint:
            raise OperationNotPermittedError(
                f"Overwrite new schema with id {requested} is not permitted."
            )
        return requested

    async def _resolve(
        self, tx: RegistryReads, subject: str, version: int, *, deleted: bool
    ) -> SubjectVersion:
        if version == LATEST:
            live = await tx.versions(subject, deleted=False)
            found = live[-1] if live else None
        else:
            found = await tx.version(subject, version)
            if found is not None and found.deleted and not deleted:
                found = None
        if found is not None:
            return found
        if await tx.versions(subject, deleted=deleted):
            raise VersionNotFoundError(subject, version)
        raise SubjectNotFoundError(subject)

    async def _registered(self, tx: RegistryReads, found: SubjectVersion) -> RegisteredVersion:
        stored = await stored_schema(tx, found.schema_id)
        return RegisteredVersion(
            found.subject, found.version, stored.id, stored.text, stored.references, found.deleted
        )

    async def _aliased(self, tx: RegistryReads, subject: str) -> str:
        """The subject ``subject``'s own config names as its alias, or ``subject`` itself.

        Only a subject's own config counts: a global alias would send every subject to one.
        """
        alias = (await self._own_config(tx, subject)).alias
        return subject if alias is None else validate_subject(alias)

    async def _find(
        self,
        tx: RegistryReads,
        subject: str,
        candidate: ParsedSchema,
        *,
        normalize: bool,
        deleted: bool,
    ) -> SubjectVersion | None:
        """The newest version of ``subject`` holding ``candidate``.

        With ``normalize``, failing an exact match, the newest version whose schema
        normalizes to the candidate (it was registered without normalization), as
        Confluent's lookup finds it.
        """
        found = await tx.find(subject, candidate.fingerprint, deleted=deleted)
        if found is not None or not normalize:
            return found
        for version in reversed(await tx.versions(subject, deleted=deleted)):
            stored = await stored_schema(tx, version.schema_id)
            if stored.references != candidate.references:
                continue
            if canonical_form(json.loads(stored.text), normalize=True) == candidate.canonical:
                return version
        return None

    def forget(self, schema_ids: Iterable[int] | None) -> None:
        """Drop ``schema_ids`` (``None``: every schema) from the caches: they may be purged.

        Called here once a purge has committed, and for purges by other registry processes
        sharing the database when their notices arrive (see :mod:`evp.registry.purge_watch`).
        """
        self._purges += 1
        if schema_ids is None:
            self.cache.clear()
            self.stored.clear()
            return
        self.cache.discard(schema_ids)
        self.stored.discard(schema_ids)

    async def _refuse_if_referenced(
        self, tx: RegistryTransaction, subject: str, versions: list[int]
    ) -> None:
        for version in versions:
            referrers = await tx.referenced_by(subject, version)
            if referrers:
                raise ReferenceExistsError(subject, version, referrers)


async def _lock_for_registration(
    tx: RegistryTransaction, subject: str, references: tuple[Reference, ...]
) -> None:
    # The subject exclusively, and the subjects it references shared, so that a referenced
    # version cannot be deleted while the schema referencing it is being registered. All
    # in name order: two registrations can then never wait on each other in a cycle.
    referenced = {ref.subject for ref in references} - {subject}
    for name in sorted(referenced | {subject}):
        await tx.lock_subject(name, shared=name != subject)


def _require_known(subject: str) -> None:
    if not is_storable(subject):
        raise SubjectNotFoundError(subject)


def _reimport_elsewhere(mode: Mode, request: SchemaRequest, existing: SubjectVersion) -> bool:
    """Whether ``request`` imports the schema ``existing`` holds, by its id, at another version.

    Confluent's registry records the schema at that version too rather than answering the
    version it has.
    """
    return (
        mode is Mode.IMPORT
        and request.version is not None
        and request.version != existing.version
        and request.id == existing.schema_id
    )


def _check_register_mode(subject: str, mode: Mode, request: SchemaRequest) -> None:
    if mode.read_only:
        raise OperationNotPermittedError(f"Subject {subject} is in read-only mode", subject=subject)
    # A version alone is a compare-and-set in READWRITE mode; an id needs IMPORT mode.
    if request.id is not None:
        if mode is not Mode.IMPORT:
            raise OperationNotPermittedError(
                f"Subject {subject} is not in import mode", subject=subject
            )
    elif request.version is None and mode is not Mode.READWRITE:
        raise OperationNotPermittedError(
            f"Subject {subject} is not in read-write mode", subject=subject
        )
