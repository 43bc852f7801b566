"""The codec: typed events to Confluent frames and back, with typed errors for bad bytes."""

from __future__ import annotations

import dataclasses
import decimal
import io
import json
import uuid
from collections.abc import Mapping

import fastavro
import pytest

from evp.avro import (
    AvroCodec,
    DecodeError,
    EncodeError,
    IncompatibleWriter,
    InMemorySchemaLookup,
    SchemaNotRegistered,
    UnknownSchemaId,
    WireFormatError,
)
from evp.avro.wire import frame_header
from evp.contract.catalog import load_catalog
from evp.events import (
    EVENT_TYPES,
    CancellationReason,
    OrderCancelled,
    OrderPlaced,
    UserRegistered,
)
from tests.avro.conftest import SCHEMAS


def _old_version(subject: str, version: int) -> tuple[str, int, InMemorySchemaLookup]:
    catalog = load_catalog(SCHEMAS)
    text = catalog.subjects[subject].versions[version - 1].schema_text
    lookup = InMemorySchemaLookup()
    return text, lookup.register(subject, text), lookup


def _write(schema_text: str, schema_id: int, datum: Mapping[str, object]) -> bytes:
    buffer = io.BytesIO(frame_header(schema_id))
    buffer.seek(5)
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(json.loads(schema_text)), datum)
    return buffer.getvalue()


def test_round_trip_gives_an_equal_event(codec: AvroCodec, order: OrderPlaced) -> None:
    """decode(encode(e)) == e for a rich event."""
    assert codec.decode(codec.encode(order), OrderPlaced) == order


def test_frame_carries_the_registered_schema_id(
    codec: AvroCodec, lookup: InMemorySchemaLookup, order: OrderPlaced
) -> None:
    """The frame's id is the id the registry gave the class's schema."""
    expected = lookup.id_for(OrderPlaced.SUBJECT, OrderPlaced.AVRO_SCHEMA)
    assert codec.schema_id_of(codec.encode(order)) == expected


def test_body_equals_fastavro_with_logical_types(codec: AvroCodec, order: OrderPlaced) -> None:
    """Our body is byte-identical to fastavro encoding the same logical datum."""
    data = codec.encode(order)
    full = fastavro.parse_schema(json.loads(OrderPlaced.AVRO_SCHEMA))
    datum = fastavro.schemaless_reader(io.BytesIO(data[5:]), full, None)
    again = io.BytesIO()
    fastavro.schemaless_writer(again, full, datum)
    assert again.getvalue() == data[5:]


def test_unregistered_schema_is_refused_before_encoding(order: OrderPlaced) -> None:
    """Encoding with a schema the registry lacks names the subject and the fix."""
    with pytest.raises(SchemaNotRegistered, match="evp schemas register") as raised:
        AvroCodec(InMemorySchemaLookup()).encode(order)
    assert raised.value.subject == OrderPlaced.SUBJECT


def test_decimal_with_too_many_places_is_an_encode_error(
    codec: AvroCodec, order: OrderPlaced
) -> None:
    """A price of 1.005 EUR cannot be encoded at scale 2 and says which record."""
    bad = dataclasses.replace(order, total=decimal.Decimal("1.005"))
    with pytest.raises(EncodeError, match="decimal place") as raised:
        codec.encode(bad)
    assert raised.value.fields["record"] == "shop.orders.OrderPlaced"


def test_unknown_schema_id_is_typed(codec: AvroCodec) -> None:
    """A frame naming an id the registry never issued raises UnknownSchemaId."""
    with pytest.raises(UnknownSchemaId) as raised:
        codec.decode(frame_header(99_999) + b"\x00", OrderPlaced)
    assert raised.value.schema_id == 99_999


def test_garbage_is_a_wire_format_error(codec: AvroCodec) -> None:
    """Bytes that are not a frame never surface as struct or index errors."""
    with pytest.raises(WireFormatError):
        codec.decode(b"hello world", OrderPlaced)


def test_truncated_body_is_a_decode_error(codec: AvroCodec, order: OrderPlaced) -> None:
    """A body cut short raises DecodeError naming the schema id."""
    data = codec.encode(order)
    with pytest.raises(DecodeError, match="corrupt or truncated") as raised:
        codec.decode(data[:-10], OrderPlaced)
    assert raised.value.fields["schema_id"] == codec.schema_id_of(data)


def test_trailing_bytes_are_a_decode_error(codec: AvroCodec, order: OrderPlaced) -> None:
    """Bytes left over after the body mean the frame is not what it claims."""
    with pytest.raises(DecodeError, match="left after the body"):
        codec.decode(codec.encode(order) + b"\x00", OrderPlaced)


def test_v1_order_reads_as_v2_with_default_address() -> None:
    """OrderPlaced v1 data decodes into the v2 class with shipping_address None."""
    text, schema_id, lookup = _old_version(OrderPlaced.SUBJECT, 1)
    datum = {
        "envelope": {
            "event_id": str(uuid.uuid4()),
            "event_type": OrderPlaced.FULL_NAME,
            "timestamp": 0,
            "version": 1,
            "source": "orders",
            "correlation_id": str(uuid.uuid4()),
            "causation_id": None,
        },
        "order_id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
        "lines": [],
        "total": b"\x00",
        "currency": "EUR",
    }
    event = AvroCodec(lookup).decode(_write(text, schema_id, datum), OrderPlaced)
    assert event.shipping_address is None
    assert event.envelope.version == 1


def test_v1_user_reads_as_v2_with_marketing_opt_out() -> None:
    """UserRegistered v1 data decodes with marketing_opt_in False (its default)."""
    text, schema_id, lookup = _old_version(UserRegistered.SUBJECT, 1)
    user = UserRegistered.new(
        user_id=uuid.uuid4(), email="a@b.c", display_name="Ada", source="users"
    )
    datum = {k: v for k, v in user.to_avro().items() if k != "marketing_opt_in"}
    event = AvroCodec(lookup).decode(_write(text, schema_id, datum), UserRegistered)
    assert event.marketing_opt_in is False
    assert event.email == "a@b.c"


def test_writer_of_another_record_is_incompatible(codec: AvroCodec, order: OrderPlaced) -> None:
    """Reading an OrderPlaced frame as OrderCancelled is a typed incompatibility."""
    with pytest.raises(IncompatibleWriter) as raised:
        codec.decode(codec.encode(order), OrderCancelled)
    assert raised.value.fields["writer"] == "shop.orders.OrderPlaced"


def test_decode_any_picks_the_class_by_writer_name(codec: AvroCodec) -> None:
    """A consumer of a mixed topic gets each event as its own class."""
    cancelled = OrderCancelled.new(
        order_id=uuid.uuid4(), reason=CancellationReason.TIMED_OUT, source="orders"
    )
    event = codec.decode_any(codec.encode(cancelled), EVENT_TYPES)
    assert isinstance(event, OrderCancelled)
    assert event == cancelled


def test_registry_is_asked_once_per_class_and_id(
    lookup: InMemorySchemaLookup, order: OrderPlaced
) -> None:
    """Schema ids and writer schemas are cached, never fetched per message."""
    calls: list[str] = []

    class CountingLookup:
        def schema_by_id(self, schema_id: int) -> str:
            calls.append("by_id")
            return lookup.schema_by_id(schema_id)

        def id_for(self, subject: str, schema: str) -> int:
            calls.append("id_for")
            return lookup.id_for(subject, schema)

    codec = AvroCodec(CountingLookup())
    for _ in range(100):
        codec.decode(codec.encode(order), OrderPlaced)
    assert sorted(calls) == ["by_id", "id_for"]


def test_new_links_correlation_and_causation(order: OrderPlaced) -> None:
    """An event made with caused_by carries the cause's correlation and id."""
    cancelled = OrderCancelled.new(
        order_id=order.order_id,
        reason=CancellationReason.OUT_OF_STOCK,
        source="orders",
        caused_by=order,
    )
    assert cancelled.envelope.correlation_id == order.envelope.correlation_id
    assert cancelled.envelope.causation_id == order.envelope.event_id
    assert cancelled.envelope.event_type == "shop.orders.OrderCancelled"
    assert cancelled.envelope.version == OrderCancelled.VERSION
