"""Fixtures for the Avro layer: a registry in memory with every event's history registered."""

from __future__ import annotations

import decimal
import uuid
from pathlib import Path

import pytest

from evp.avro import AvroCodec, InMemorySchemaLookup
from evp.events import Currency, OrderLine, OrderPlaced, ShippingAddress
from evp.testing.catalog import catalog_lookup
from evp_codegen.catalog import load_catalog

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
    return OrderPlaced.new(
        order_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        lines=[
            OrderLine(sku=f"SKU-{i}", quantity=i + 1, unit_price=decimal.Decimal("19.99"))
            for i in range(3)
        ],
        total=decimal.Decimal("119.94"),
        currency=Currency.EUR,
        shipping_address=ShippingAddress(
            recipient="Ada", street="Main 1", city="Berlin", postal_code="10115", country_code="DE"
        ),
        source="orders",
    )
