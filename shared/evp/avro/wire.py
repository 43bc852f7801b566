"""The Confluent wire format: magic byte 0, 4-byte big-endian schema id, Avro binary body."""

from __future__ import annotations

from evp.avro.errors import WireFormatError

__all__ = ["HEADER_SIZE", "MAGIC_BYTE", "frame_header", "read_header"]

MAGIC_BYTE = 0
HEADER_SIZE = 5


def frame_header(schema_id: int) -> bytes:
    """The 5-byte prefix of every message written with ``schema_id``."""
    if not 0 <= schema_id < 2**31:
        raise ValueError(f"schema id out of range: {schema_id}")
    return bytes((MAGIC_BYTE,)) + schema_id.to_bytes(4, "big")


def read_header(data: bytes) -> int:
    """The schema id of a frame; raises :class:`WireFormatError` when ``data`` is no frame."""
    if len(data) < HEADER_SIZE:
        raise WireFormatError(
            f"truncated frame: {len(data)} byte(s), a frame has at least {HEADER_SIZE}",
            length=len(data),
        )
    if data[0] != MAGIC_BYTE:
        raise WireFormatError(
            f"unknown magic byte {data[0]:#04x}, expected {MAGIC_BYTE:#04x}",
            length=len(data),
            magic=data[0],
        )
    return int.from_bytes(data[1:HEADER_SIZE], "big")
