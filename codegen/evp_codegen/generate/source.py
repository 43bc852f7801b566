"""Where the generator reads each subject's latest schema: ``schemas/`` or a registry.

Routing (topic, key) always comes from ``catalog.toml``; only the schema text differs by
source. Both sources hand the model the same normalized schema, so identical schemas give
byte-identical output.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from evp.contract.catalog import Catalog, Subject
from evp_codegen.generate.model import EventSpec

__all__ = ["DirectorySource", "SchemaSource", "event_specs"]


class SchemaSource(Protocol):
    """Supplies the latest schema (and its version number) of a catalog subject."""

    def latest(self, subject: Subject) -> tuple[int, dict[str, Any]]:
        """The latest version number of ``subject`` and its self-contained schema."""
        ...


class DirectorySource:
    """Schemas as written in ``schemas/``, shared types inlined."""

    def latest(self, subject: Subject) -> tuple[int, dict[str, Any]]:
        """The newest version file of ``subject``."""
        version = subject.latest
        return version.version, json.loads(version.schema_text)


def event_specs(catalog: Catalog, source: SchemaSource) -> list[EventSpec]:
    """One spec per catalog subject, its schema taken from ``source``."""
    specs = []
    for name in sorted(catalog.subjects):
        subject = catalog.subjects[name]
        version, schema = source.latest(subject)
        specs.append(
            EventSpec(
                subject=subject.name,
                full_name=subject.full_name,
                topic=subject.topic,
                key=subject.key,
                version=version,
                schema=schema,
            )
        )
    return specs
