"""Sample events for the messaging tests (from :mod:`evp.testing.samples`), and an
OrderPlaced class of schema version 1."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, ClassVar

from evp.avro.record import Event
from evp.contract.catalog import load_catalog
from evp.events import Envelope, OrderPlaced
from evp.testing.samples import (
    order_cancelled,
    order_placed,
    payment_processed,
    payment_requested,
)

__all__ = [
    "SCHEMAS",
    "OrderPlacedV1",
    "order_cancelled",
    "order_placed",
    "payment_processed",
    "payment_requested",
    "schema_version",
]

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


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
