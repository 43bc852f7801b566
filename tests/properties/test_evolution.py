"""Data written with one version of a subject reads with the versions its level binds it to."""

from __future__ import annotations

import io
import json
from typing import Any

import fastavro
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evp.avro import AvroCodec, Event, InMemorySchemaLookup
from evp.avro.wire import HEADER_SIZE, frame_header
from evp.contract.catalog import SubjectVersion
from evp.events import EVENT_TYPES
from evp.testing.strategies import from_schema, to_datum, to_event
from tests.properties.contract import BACKWARD_PAIRS, CATALOG, FORWARD_PAIRS, pair_id
from tests.properties.resolution import added_fields, default_of, resolve

ADDING_PAIRS = [
    (older, newer)
    for older, newer in BACKWARD_PAIRS
    if added_fields(older.schema_text, newer.schema_text)
]


def _parsed(version: SubjectVersion) -> Any:
    return fastavro.parse_schema(json.loads(version.schema_text))


def _event_type(version: SubjectVersion) -> type[Event] | None:
    """The generated class of ``version`` when it is the latest one, else ``None``."""
    event_type = EVENT_TYPES[CATALOG.subjects[version.subject].full_name]
    return event_type if version.schema_text == event_type.AVRO_SCHEMA else None


def _write(
    registry: InMemorySchemaLookup, codec: AvroCodec, version: SubjectVersion, datum: Any
) -> bytes:
    """A frame of ``datum`` written with ``version``: by the codec when a class has it."""
    event_type = _event_type(version)
    if event_type is not None:
        return codec.encode(to_event(event_type, datum))
    frame = io.BytesIO()
    frame.write(frame_header(registry.register(version.subject, version.schema_text)))
    fastavro.schemaless_writer(frame, _parsed(version), datum)
    return frame.getvalue()


def _read(
    registry: InMemorySchemaLookup, codec: AvroCodec, frame: bytes, version: SubjectVersion
) -> Any:
    """The datum a reader of ``version`` sees: through the codec when a class has it."""
    event_type = _event_type(version)
    if event_type is not None:
        return to_datum(codec.decode(frame, event_type))
    writer = fastavro.parse_schema(json.loads(registry.schema_by_id(codec.schema_id_of(frame))))
    body = io.BytesIO(frame[HEADER_SIZE:])
    return fastavro.schemaless_reader(
        body, writer, _parsed(version), return_named_type=True, return_named_type_override=True
    )


@pytest.mark.parametrize(("older", "newer"), BACKWARD_PAIRS, ids=pair_id)
@given(data=st.data())
def test_older_data_reads_with_the_newer_version(
    registry: InMemorySchemaLookup,
    codec: AvroCodec,
    older: SubjectVersion,
    newer: SubjectVersion,
    data: st.DataObject,
) -> None:
    """Under BACKWARD and FULL levels, the newer version reads what the older one wrote."""
    datum = data.draw(from_schema(older.schema_text))
    frame = _write(registry, codec, older, datum)
    assert _read(registry, codec, frame, newer) == resolve(
        datum, older.schema_text, newer.schema_text
    )


@pytest.mark.parametrize(("older", "newer"), ADDING_PAIRS, ids=pair_id)
@given(data=st.data())
def test_fields_added_by_the_newer_version_take_their_defaults(
    registry: InMemorySchemaLookup,
    codec: AvroCodec,
    older: SubjectVersion,
    newer: SubjectVersion,
    data: st.DataObject,
) -> None:
    """Reading older data, each field the newer version added holds that field's default."""
    datum = data.draw(from_schema(older.schema_text))
    read = _read(registry, codec, _write(registry, codec, older, datum), newer)
    added = added_fields(older.schema_text, newer.schema_text)
    assert {name: read[name] for name in added} == {
        name: default_of(newer.schema_text, name) for name in added
    }


@pytest.mark.parametrize(("older", "newer"), FORWARD_PAIRS, ids=pair_id)
@given(data=st.data())
def test_newer_data_reads_with_the_older_version(
    registry: InMemorySchemaLookup,
    codec: AvroCodec,
    older: SubjectVersion,
    newer: SubjectVersion,
    data: st.DataObject,
) -> None:
    """Under FORWARD and FULL levels, the older version reads what the newer one wrote."""
    datum = data.draw(from_schema(newer.schema_text))
    frame = _write(registry, codec, newer, datum)
    assert _read(registry, codec, frame, older) == resolve(
        datum, newer.schema_text, older.schema_text
    )
