"""Poison messages for every kind a consumer must dead-letter, and what the shop's consumer
groups are expected to do with each.

Four kinds, each on every topic of the shop:

* **wire-format**: bytes that are not a Confluent frame;
* **unknown-schema-id**: a frame naming a schema id the registry never gave out;
* **incompatible-writer**: a frame written with a schema registered (under a subject of
  its own) for the same record name as one of the topic's events, but which no reader of
  that event can read (its ``envelope`` is a string);
* **handler-failed**: a well-formed event that real handlers of the shop fail on every
  time: text with a NUL character, which Postgres cannot store, in a field a handler or a
  read model writes to its database (see :func:`failing_events`).

Which groups dead-letter a message follows from what each group consumes: every group
reading a topic dead-letters the first two kinds, and the groups whose readers take the
record's name the third: :func:`groups_by_topic` works that out from the services' own
declarations. The groups that store the poisoned field dead-letter the fourth.
"""

from __future__ import annotations

import dataclasses
import io
import json
import uuid
from collections.abc import Iterable
from decimal import Decimal

import fastavro

from evp.avro import Event
from evp.avro.wire import frame_header
from evp.events import (
    Channel,
    Currency,
    NotificationSent,
    OrderLine,
    OrderPlaced,
    PaymentMethod,
    PaymentProcessed,
    ProductAdded,
    StockHeld,
    UserRegistered,
)
from evp.service import Service
from evp.service.runtime import projection_group

__all__ = [
    "INCOMPATIBLE_RECORDS",
    "Poison",
    "expected_letters",
    "failing_events",
    "groups_by_topic",
    "incompatible_schema",
    "incompatible_value",
    "unknown_schema_value",
]

UNKNOWN_SCHEMA_ID = 2_000_000_000
NUL = "\x00"

INCOMPATIBLE_RECORDS: dict[str, type[Event]] = {
    "users": UserRegistered,
    "orders": OrderPlaced,
    "payments": PaymentProcessed,
    "inventory": StockHeld,
    "notifications": NotificationSent,
}
"""Per topic, the event whose record name the incompatible writer takes."""


@dataclasses.dataclass(frozen=True)
class Poison:
    """One poison message sent: its kind, where it went and which groups must drop it."""

    kind: str
    topic: str
    """Without the test's prefix."""
    partition: int
    offset: int
    groups: frozenset[str]


def groups_by_topic(services: Iterable[Service]) -> dict[str, dict[str, set[str]]]:
    """topic -> consumer group -> the record names the group reads from it."""
    found: dict[str, dict[str, set[str]]] = {}
    for service in services:
        routes = [(spec.group, spec.events) for spec in service.handlers] + [
            (projection_group(service.name, projection), events)
            for projection, events in service.kafka_projections
        ]
        for group, events in routes:
            for event in events:
                found.setdefault(event.TOPIC, {}).setdefault(group, set()).add(event.FULL_NAME)
    return found


def incompatible_schema(record: type[Event]) -> str:
    """A schema for ``record``'s name that no reader of it can read (the envelope a string)."""
    namespace, _, name = record.FULL_NAME.rpartition(".")
    return json.dumps(
        {
            "type": "record",
            "name": name,
            "namespace": namespace,
            "fields": [{"name": "envelope", "type": "string"}],
        }
    )


def incompatible_value(schema_id: int) -> bytes:
    """A frame written with :func:`incompatible_schema`, registered as ``schema_id``."""
    schema = fastavro.parse_schema(
        {"type": "record", "name": "P", "fields": [{"name": "envelope", "type": "string"}]}
    )
    body = io.BytesIO()
    fastavro.schemaless_writer(body, schema, {"envelope": "poison"})
    return frame_header(schema_id) + body.getvalue()


def unknown_schema_value() -> bytes:
    """A frame naming a schema id no registry gave out, with a plausible body."""
    return frame_header(UNKNOWN_SCHEMA_ID) + b"\x02poison"


def failing_events() -> dict[str, tuple[Event, frozenset[str]]]:
    """Per topic, a well-formed event with a NUL character in one text field, and the
    groups whose handlers store that field and so fail on it every time.

    On the payments and notifications topics no group fails: orders ignores a payment for
    an order it never placed, and analytics keeps every event as its frame (bytes); those
    events are handled, and must not be dead-lettered.
    """
    return {
        "users": (
            UserRegistered.new(
                user_id=uuid.uuid4(),
                email=f"poison-{uuid.uuid4().hex[:8]}@example.com",
                display_name=f"Poison{NUL}",
                source="users",
            ),
            # The welcome's recipient name, and the recipients read model.
            frozenset({"notifications", "notifications.recipients"}),
        ),
        "orders": (
            OrderPlaced.new(
                order_id=uuid.uuid4(),
                user_id=uuid.uuid4(),
                lines=[OrderLine(sku=f"POISON{NUL}", quantity=1, unit_price=Decimal("1.00"))],
                total=Decimal("1.00"),
                currency=Currency.EUR,
                source="orders",
            ),
            frozenset({"inventory"}),  # the SKU, looked up in its stock table
        ),
        "inventory": (
            ProductAdded.new(
                sku=f"POISON-{uuid.uuid4().hex[:6]}",
                name=f"Poison{NUL}",
                price=Decimal("1.00"),
                currency=Currency.EUR,
                source="inventory",
            ),
            frozenset({"orders.catalogue"}),  # the product's name in orders' catalogue
        ),
        "payments": (
            PaymentProcessed.new(
                payment_id=uuid.uuid4(),
                order_id=uuid.uuid4(),
                amount=Decimal("1.00"),
                currency=Currency.EUR,
                method=PaymentMethod.CARD,
                provider_reference=f"poison{NUL}",
                source="payments",
            ),
            frozenset(),
        ),
        "notifications": (
            NotificationSent.new(
                notification_id=uuid.uuid4(),
                user_id=uuid.uuid4(),
                channel=Channel.EMAIL,
                recipient=f"poison{NUL}@example.com",
                template="welcome",
                source="notifications",
            ),
            frozenset(),
        ),
    }


def expected_letters(
    poisons: Iterable[Poison],
) -> dict[tuple[str, str, int, int], str]:
    """(group, topic, partition, offset) -> reason, for every dead letter expected."""
    return {
        (group, poison.topic, poison.partition, poison.offset): poison.kind
        for poison in poisons
        for group in poison.groups
    }
