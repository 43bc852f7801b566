"""An in-memory registry holding a catalog's schemas, for tests that need no server."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evp.avro import InMemorySchemaLookup

if TYPE_CHECKING:
    from evp.contract.catalog import Catalog

__all__ = ["catalog_lookup"]


def catalog_lookup(catalog: Catalog) -> InMemorySchemaLookup:
    """Every version of every subject in ``catalog``, registered oldest first.

    The ids come out as ``evp schemas register`` assigns them in an empty registry.
    """
    lookup = InMemorySchemaLookup()
    for version in catalog.iter_versions():
        lookup.register(version.subject, version.schema_text)
    return lookup
