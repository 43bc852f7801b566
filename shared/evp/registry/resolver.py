"""Turning schema texts into parsed schemas, resolving their references through the store.

References name a subject version; their texts are parsed first (each after those it
uses) so that the referenced types are known when the referencing schema is parsed.
Stored schemas are parsed once and kept in a :class:`~evp.registry.cache.SchemaCache` by
id; requested schemas without references, by their text (what a reference resolves to may
change, so texts with references are parsed afresh each time).
"""

from __future__ import annotations

from dataclasses import replace

from evp.registry._translate import schema_errors
from evp.registry.cache import SchemaCache
from evp.registry.errors import InvalidSchemaError, SchemaNotFoundError
from evp.registry.requests import LATEST, SchemaRequest
from evp.registry.store import RegistryReads, StoredSchema
from evp.schema.parsed import ParsedSchema, Reference, parse_schema

__all__ = ["MAX_CACHED_TEXT", "SchemaResolver", "stored_schema"]

# Texts longer than this are not cached by text, bounding the memory the caches can take.
MAX_CACHED_TEXT = 64 * 1024


class SchemaResolver:
    """Parses requested and stored schemas with their references; caches by id and by text."""

    def __init__(
        self,
        cache: SchemaCache[int, ParsedSchema],
        texts: SchemaCache[tuple[str, bool], ParsedSchema] | None = None,
    ) -> None:
        self.cache = cache
        self.texts: SchemaCache[tuple[str, bool], ParsedSchema] = texts or SchemaCache(1_000)

    async def requested(
        self, tx: RegistryReads, request: SchemaRequest, *, normalize: bool
    ) -> ParsedSchema:
        """The schema in ``request``, references pinned to version numbers and resolved."""
        if request.references or len(request.schema) > MAX_CACHED_TEXT:
            return await self._parse_requested(tx, request, normalize=normalize)
        key = (request.schema, normalize)
        parsed = self.texts.get(key)
        if parsed is None:
            parsed = await self._parse_requested(tx, request, normalize=normalize)
            self.texts.put(key, parsed)
        return parsed

    async def _parse_requested(
        self, tx: RegistryReads, request: SchemaRequest, *, normalize: bool
    ) -> ParsedSchema:
        references = [await self._pin(tx, ref) for ref in request.references]
        dependencies = await self._dependencies(tx, references)
        with schema_errors():
            return parse_schema(
                request.schema,
                references=references,
                dependencies=dependencies,
                normalize=normalize,
            )

    async def stored(self, tx: RegistryReads, schema_id: int) -> ParsedSchema:
        """The stored schema ``schema_id``, parsed at most once while it stays cached."""
        cached = self.cache.get(schema_id)
        if cached is not None:
            return cached
        stored = await stored_schema(tx, schema_id)
        dependencies = await self._dependencies(tx, list(stored.references))
        with schema_errors():
            parsed = parse_schema(
                stored.text, references=stored.references, dependencies=dependencies
            )
        # Keep the stored identity: a normalized schema re-parses to a different spelling.
        parsed = replace(parsed, canonical=stored.text, fingerprint=stored.fingerprint)
        self.cache.put(schema_id, parsed)
        return parsed

    async def _pin(self, tx: RegistryReads, ref: Reference) -> Reference:
        # A reference to "latest" is stored as the version it meant when registered.
        if ref.version != LATEST:
            return ref
        live = await tx.versions(ref.subject, deleted=False)
        if not live:
            raise InvalidSchemaError(
                f'No schema reference found for subject "{ref.subject}" and version {LATEST}'
            )
        return replace(ref, version=live[-1].version)

    async def _dependencies(self, tx: RegistryReads, references: list[Reference]) -> list[str]:
        """Texts of the schemas ``references`` reach, each after the ones it uses."""
        ordered: list[str] = []
        done: set[int] = set()

        async def visit(ref: Reference, trail: frozenset[int]) -> None:
            found = await tx.version(ref.subject, ref.version)
            if found is None:
                # Confluent's words: the reference may name a version since purged.
                raise InvalidSchemaError(
                    f'No schema reference found for subject "{ref.subject}"'
                    f" and version {ref.version}"
                )
            if found.schema_id in trail:
                raise InvalidSchemaError(f"reference {ref.name} is circular")
            if found.schema_id in done:
                return
            stored = await stored_schema(tx, found.schema_id)
            for inner in stored.references:
                await visit(inner, trail | {found.schema_id})
            done.add(found.schema_id)
            ordered.append(stored.text)

        for ref in references:
            await visit(ref, frozenset())
        return ordered


async def stored_schema(tx: RegistryReads, schema_id: int) -> StoredSchema:
    """The stored schema ``schema_id``; :class:`SchemaNotFoundError` if there is none."""
    stored = await tx.schema(schema_id)
    if stored is None:
        raise SchemaNotFoundError(schema_id)
    return stored
