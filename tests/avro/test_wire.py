"""The Confluent frame: magic byte, 4-byte big-endian id, body."""

from __future__ import annotations

import pytest

from evp.avro.errors import WireFormatError
from evp.avro.wire import frame_header, read_header


def test_header_is_magic_byte_then_big_endian_id() -> None:
    """Schema id 258 frames as 00 00 00 01 02."""
    assert frame_header(258) == b"\x00\x00\x00\x01\x02"


def test_header_round_trips() -> None:
    """The id read from a header is the id it was written with."""
    assert read_header(frame_header(2**31 - 1) + b"body") == 2**31 - 1


@pytest.mark.parametrize("data", [b"", b"\x00", b"\x00\x00\x00\x01"])
def test_truncated_frame_is_a_wire_format_error(data: bytes) -> None:
    """Fewer than five bytes is a typed error naming the length."""
    with pytest.raises(WireFormatError, match="truncated frame") as raised:
        read_header(data)
    assert raised.value.fields["length"] == len(data)


def test_wrong_magic_byte_is_a_wire_format_error() -> None:
    """A frame must start with byte 0."""
    with pytest.raises(WireFormatError, match="magic byte 0x7b") as raised:
        read_header(b'{"json": true}')
    assert raised.value.fields["magic"] == 0x7B


def test_negative_schema_id_is_refused() -> None:
    """Ids outside 0..2^31-1 cannot be framed."""
    with pytest.raises(ValueError, match="out of range"):
        frame_header(-1)
