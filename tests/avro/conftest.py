"""Fixtures for the Avro layer: a registry in memory with every event's history registered."""

from __future__ import annotations

from pathlib import Path

import pytest

from evp.avro import AvroCodec, InMemorySchemaLookup
from evp.contract.catalog import load_catalog
from evp.events import OrderPlaced
from evp.testing.catalog import catalog_lookup
from evp.testing.samples import order_line, order_placed

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@pytest.fixture(scope="session")
def lookup() -> InMemorySchemaLookup:
    """Every version of every subject in schemas/, registered oldest first."""
    return catalog_lookup(load_catalog(SCHEMAS).require_valid())


@pytest.fixture
def codec(lookup: InMemorySchemaLookup) -> AvroCodec:
    """A fresh codec (empty caches) over the shared in-memory registry."""
    return AvroCodec(lookup)


@pytest.fixture
def order() -> OrderPlaced:
    """An order with three lines and a shipping address."""
    return order_placed(lines=[order_line(f"SKU-{i}", i + 1, "19.99") for i in range(3)])
