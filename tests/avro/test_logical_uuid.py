"""``string_to_uuid``, the cheaper ``uuid.UUID(text)`` generated readers call: exactly equal."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from evp.avro import logical


@given(st.uuids(version=None))
def test_canonical_text_gives_an_equal_uuid(value: uuid.UUID) -> None:
    """The canonical text of any UUID reads back as an indistinguishable UUID."""
    result = logical.string_to_uuid(str(value))
    assert type(result) is uuid.UUID
    assert (result, result.int, result.is_safe) == (value, value.int, uuid.SafeUUID.unknown)
    assert hash(result) == hash(value)
    assert str(result) == str(value)


@given(st.text(alphabet="0123456789abcdefABCDEF-{}:+_ urnid", max_size=48))
@example("12345678123456781234567812345678")
@example("{12345678-1234-5678-1234-567812345678}")
@example("urn:uuid:12345678-1234-5678-1234-567812345678")
@example("+2345678-1234-5678-1234-567812345678")
@example("1_345678-1234-5678-1234-567812345678")
@example("12345678-1234-5678-1234-56781234567")
@example("")
def test_any_text_is_read_exactly_as_uuid_reads_it(text: str) -> None:
    """Odd but valid forms give the same UUID as ``uuid.UUID``; malformed text raises as it does."""
    try:
        expected = uuid.UUID(text)
    except ValueError:
        with pytest.raises(ValueError):  # noqa: PT011 - the message is uuid's own
            logical.string_to_uuid(text)
    else:
        assert logical.string_to_uuid(text) == expected
