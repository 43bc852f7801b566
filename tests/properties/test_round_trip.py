"""Every event type survives the codec and writes exactly the bytes fastavro writes."""

from __future__ import annotations

import io
import json

import fastavro
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evp.avro import AvroCodec, Event
from evp.avro.wire import frame_header
from evp.testing.strategies import events, from_schema, to_event
from tests.properties.contract import EVENT_CLASSES


@pytest.mark.parametrize("event_type", EVENT_CLASSES, ids=lambda c: c.__name__)
@given(data=st.data())
def test_decode_inverts_encode(
    codec: AvroCodec, event_type: type[Event], data: st.DataObject
) -> None:
    """Decoding an encoded event gives back an equal event."""
    event = data.draw(events(event_type))
    assert codec.decode(codec.encode(event), event_type) == event


@pytest.mark.parametrize("event_type", EVENT_CLASSES, ids=lambda c: c.__name__)
@given(data=st.data())
def test_encoded_body_is_what_fastavro_writes(
    codec: AvroCodec, event_type: type[Event], data: st.DataObject
) -> None:
    """The codec's frame is the schema id header followed by fastavro's bytes for the datum."""
    datum = data.draw(from_schema(event_type.AVRO_SCHEMA))
    expected = io.BytesIO()
    expected.write(frame_header(codec.prepare(event_type)))
    fastavro.schemaless_writer(
        expected, fastavro.parse_schema(json.loads(event_type.AVRO_SCHEMA)), datum
    )
    assert codec.encode(to_event(event_type, datum)) == expected.getvalue()
