"""One registry and codec for the properties, holding every version of every subject."""

from __future__ import annotations

import pytest

from evp.avro import AvroCodec, InMemorySchemaLookup
from evp.testing.catalog import catalog_lookup
from tests.properties.contract import CATALOG


@pytest.fixture(scope="session")
def registry() -> InMemorySchemaLookup:
    """Every version in schemas/, registered oldest first, as `evp schemas register` does."""
    return catalog_lookup(CATALOG)


@pytest.fixture(scope="session")
def codec(registry: InMemorySchemaLookup) -> AvroCodec:
    """A codec over the registry; its caches persist across examples, as in a service."""
    return AvroCodec(registry)
