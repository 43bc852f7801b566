"""Errors of the Avro layer: bad frames, unknown ids, unreadable writers, unencodable values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from evp.errors import EvpError

if TYPE_CHECKING:
    # Only for annotations: importing it loads Avro's checker, which decoding never needs.
    from evp.schema.resolution import Problem

__all__ = [
    "AvroError",
    "DecodeError",
    "EncodeError",
    "IncompatibleWriter",
    "UnknownSchemaId",
    "WireFormatError",
]


class AvroError(EvpError):
    """Root of the errors raised while encoding or decoding events."""


class WireFormatError(AvroError):
    """The bytes are not a Confluent wire-format frame (magic byte, schema id, body)."""

    def __init__(self, message: str, *, length: int, magic: int | None = None) -> None:
        super().__init__(message, length=length, magic=magic)


class UnknownSchemaId(AvroError):
    """The frame names a schema id the registry does not know."""

    def __init__(self, schema_id: int) -> None:
        super().__init__(f"schema id {schema_id} is not registered", schema_id=schema_id)
        self.schema_id = schema_id


class IncompatibleWriter(AvroError):
    """The reader's schema cannot read data written with the writer's schema.

    ``problems`` are the compatibility checker's findings, kept as typed values (type, path,
    reader and writer fragments) so dead letters and tools can carry them as they are;
    ``reasons`` are free-text causes that have no such structure (a resolution error from
    the decoder, no reader class for the writer's record).
    """

    def __init__(
        self,
        *,
        reader: str,
        writer: str,
        schema_id: int,
        problems: Sequence[Problem] = (),
        reasons: Sequence[str] = (),
    ) -> None:
        super().__init__(
            f"{reader} cannot read data written with schema id {schema_id} ({writer})",
            reader=reader,
            writer=writer,
            schema_id=schema_id,
        )
        self.problems = tuple(problems)
        self.reasons = list(reasons)

    def __str__(self) -> str:
        found = [f"{p} [{p.info}]" if p.info else str(p) for p in self.problems]
        return "; ".join([super().__str__(), *found, *self.reasons])


class DecodeError(AvroError):
    """A well-framed body could not be decoded with its writer schema."""

    def __init__(self, message: str, *, schema_id: int, record: str | None = None) -> None:
        super().__init__(message, schema_id=schema_id, record=record)


class EncodeError(AvroError):
    """A record holds a value its schema cannot encode (e.g. a decimal with too many places)."""

    def __init__(self, message: str, *, record: str, field_path: str | None = None) -> None:
        super().__init__(message, record=record, field_path=field_path)
