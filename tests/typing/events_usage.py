"""Usage of the generated event library that must type-check under mypy --strict.

Not a test module: ``make typecheck`` checks it, so a codegen change that loosens a hint
(``Any`` where a ``Decimal`` was) fails the build.
"""

from __future__ import annotations

import datetime
import decimal
import uuid

from evp.avro import AvroCodec, Event, InMemorySchemaLookup
from evp.events import (
    EVENT_TYPES,
    CancellationReason,
    Currency,
    OrderCancelled,
    OrderLine,
    OrderPlaced,
    ShippingAddress,
)


def place_order() -> OrderPlaced:
    """Constructing an event takes exactly typed keyword arguments."""
    return OrderPlaced.new(
        order_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        lines=[OrderLine(sku="A", quantity=1, unit_price=decimal.Decimal("1.00"))],
        total=decimal.Decimal("1.00"),
        currency=Currency.EUR,
        source="orders",
    )


def read_fields(order: OrderPlaced) -> tuple[decimal.Decimal, datetime.datetime, uuid.UUID]:
    """Logical types come back as Decimal, datetime and UUID, not Any."""
    address: ShippingAddress | None = order.shipping_address
    del address
    return order.total, order.envelope.timestamp, order.envelope.correlation_id


def react(order: OrderPlaced) -> OrderCancelled:
    """``caused_by`` accepts any generated event."""
    return OrderCancelled.new(
        order_id=order.order_id,
        reason=CancellationReason.OUT_OF_STOCK,
        source="orders",
        caused_by=order,
    )


def decode(codec: AvroCodec, data: bytes) -> OrderPlaced:
    """decode() returns the reader class it was given."""
    return codec.decode(data, OrderPlaced)


def classes_are_events() -> list[type[Event]]:
    """Every generated event class satisfies the runtime's Event protocol."""
    codec = AvroCodec(InMemorySchemaLookup())
    del codec
    return [OrderPlaced, OrderCancelled, *EVENT_TYPES.values()]
