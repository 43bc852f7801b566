"""Events built from schema datums: instances of their class that hold exactly the datum."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evp.avro import Event
from evp.events import EVENT_TYPES
from evp.testing.strategies import from_schema, to_datum, to_event

EVENT_CLASSES = [EVENT_TYPES[name] for name in sorted(EVENT_TYPES)]


def _values(value: Any) -> Any:
    """A generated record's field values as a datum: records as dicts, enums as symbols."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _values(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [_values(item) for item in value]
    if isinstance(value, dict):
        return {key: _values(item) for key, item in value.items()}
    return value


@pytest.mark.parametrize("event_type", EVENT_CLASSES, ids=lambda c: c.__name__)
@given(data=st.data())
def test_an_event_holds_the_values_of_its_datum(
    event_type: type[Event], data: st.DataObject
) -> None:
    """Every field of an event built from a datum holds that datum's logical value."""
    datum = data.draw(from_schema(event_type.AVRO_SCHEMA))
    assert _values(to_event(event_type, datum)) == datum


@pytest.mark.parametrize("event_type", EVENT_CLASSES, ids=lambda c: c.__name__)
@given(data=st.data())
def test_to_datum_inverts_to_event(event_type: type[Event], data: st.DataObject) -> None:
    """Reading an event back as a datum gives the datum it was built from."""
    datum = data.draw(from_schema(event_type.AVRO_SCHEMA))
    assert to_datum(to_event(event_type, datum)) == datum
