"""Sample events for the messaging tests, and an OrderPlaced class of schema version 1."""

from __future__ import annotations

import dataclasses
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from evp.avro.record import Event
from evp.events import (
    CancellationReason,
    Currency,
    Envelope,
    OrderCancelled,
    OrderLine,
    OrderPlaced,
    PaymentMethod,
    PaymentProcessed,
    PaymentRequested,
    ShippingAddress,
)
from evp_codegen.catalog import load_catalog

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def order_placed(*, order_id: uuid.UUID | None = None, address: bool = True) -> OrderPlaced:
    """A new order of two lines, with a shipping address unless told otherwise."""
    lines = [
        OrderLine(sku="SKU-RED-MUG", quantity=2, unit_price=Decimal("19.99")),
        OrderLine(sku="SKU-TEAPOT", quantity=1, unit_price=Decimal("34.50")),
    ]
    return OrderPlaced.new(
        order_id=order_id or uuid.uuid4(),
        user_id=uuid.uuid4(),
        lines=lines,
        total=Decimal("74.48"),
        currency=Currency.EUR,
        shipping_address=ShippingAddress(
            recipient="Ada Lovelace",
            street="12 St James's Square",
            city="London",
            postal_code="SW1Y 4JH",
            country_code="GB",
        )
        if address
        else None,
        source="orders",
    )


def order_cancelled(order_id: uuid.UUID | None = None) -> OrderCancelled:
    """A cancellation for lack of stock."""
    return OrderCancelled.new(
        order_id=order_id or uuid.uuid4(), reason=CancellationReason.OUT_OF_STOCK, source="orders"
    )


def payment_requested(order: OrderPlaced, **links: Any) -> PaymentRequested:
    """The payment request of ``order`` (``caused_by=...`` to link it)."""
    return PaymentRequested.new(
        order_id=order.order_id,
        user_id=order.user_id,
        reservation_id=uuid.uuid4(),
        amount=order.total,
        currency=order.currency,
        source="orders",
        **links,
    )


def payment_processed(request: PaymentRequested, **links: Any) -> PaymentProcessed:
    """The payment of ``request``."""
    return PaymentProcessed.new(
        payment_id=uuid.uuid4(),
        order_id=request.order_id,
        amount=request.amount,
        currency=request.currency,
        method=PaymentMethod.CARD,
        provider_reference="psp-42",
        source="payments",
        **links,
    )


def schema_version(subject: str, version: int) -> str:
    """The text of ``subject``'s schema ``version`` in ``schemas/``."""
    return load_catalog(SCHEMAS).subjects[subject].versions[version - 1].schema_text


@dataclasses.dataclass(frozen=True, kw_only=True)
class OrderPlacedV1:
    """``OrderPlaced`` as schema version 1 wrote it: no shipping address.

    Stands in for a service still built from v1 of the library (a v1 producer or reader).
    """

    FULL_NAME: ClassVar[str] = OrderPlaced.FULL_NAME
    SUBJECT: ClassVar[str] = OrderPlaced.SUBJECT
    TOPIC: ClassVar[str] = OrderPlaced.TOPIC
    KEY_FIELD: ClassVar[str] = OrderPlaced.KEY_FIELD
    VERSION: ClassVar[int] = 1
    AVRO_SCHEMA: ClassVar[str] = schema_version(OrderPlaced.SUBJECT, 1)

    order: OrderPlaced
    """The v2 event this v1 one carries the fields of."""

    @property
    def envelope(self) -> Envelope:
        return self.order.envelope

    def key(self) -> str:
        return self.order.key()

    def to_avro(self) -> dict[str, Any]:
        fields = {f["name"] for f in json.loads(self.AVRO_SCHEMA)["fields"]}
        return {k: v for k, v in self.order.to_avro().items() if k in fields}

    @classmethod
    def from_avro(cls, data: dict[str, Any]) -> OrderPlacedV1:
        return cls(order=OrderPlaced.from_avro({**data, "shipping_address": None}))


def _check(event_class: type[Event]) -> type[Event]:
    return event_class


_check(OrderPlacedV1)
