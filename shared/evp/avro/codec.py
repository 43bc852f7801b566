"""Typed events to Confluent wire-format bytes and back, with Avro schema resolution.

The hot path is small, separately testable steps: class -> cached (header, parsed schema) ->
``to_avro`` -> fastavro body; bytes -> schema id -> cached (writer, reader) plan -> fastavro
-> ``from_avro``. The registry is asked once per event class and once per writer schema id.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Mapping
from typing import Any, TypeVar

import fastavro
from fastavro.read import SchemaResolutionError

from evp.avro.errors import DecodeError, EncodeError, IncompatibleWriter
from evp.avro.lookup import SchemaLookup
from evp.avro.record import Event
from evp.avro.schema import ParsedSchema, full_name_of, parse_plain
from evp.avro.wire import HEADER_SIZE, frame_header, read_header

__all__ = ["AvroCodec"]

E = TypeVar("E", bound=Event)

# What fastavro and generated conversions raise on a value that does not fit its schema.
_ENCODE_ERRORS = (ValueError, TypeError, AttributeError, KeyError, OverflowError, struct.error)
# What fastavro raises on a truncated or corrupt body.
_DECODE_ERRORS = (
    EOFError,
    StopIteration,
    ValueError,
    IndexError,
    KeyError,
    TypeError,
    OverflowError,
    MemoryError,
    struct.error,
    UnicodeDecodeError,
)


class _ReadPlan:
    """How to read one writer schema id into one reader class."""

    __slots__ = ("reader_schema", "writer_schema")

    def __init__(self, writer_schema: ParsedSchema, reader_schema: ParsedSchema | None) -> None:
        self.writer_schema = writer_schema
        self.reader_schema = reader_schema


class AvroCodec:
    """Encodes and decodes generated events in the Confluent wire format."""

    def __init__(self, schemas: SchemaLookup) -> None:
        self._schemas = schemas
        self._writers: dict[type[Event], tuple[bytes, ParsedSchema]] = {}
        self._plans: dict[tuple[int, type[Any]], _ReadPlan] = {}
        self._writer_texts: dict[int, str] = {}

    # -- encoding -----------------------------------------------------------------------

    def prepare(self, event_type: type[Event]) -> int:
        """Resolve ``event_type``'s schema id now (at start-up) rather than on first use."""
        header, _ = self._writer_for(event_type)
        return read_header(header)

    def encode(self, event: Event) -> bytes:
        """``event`` as a wire-format frame written with its class's registered schema."""
        return self.encode_values(event)[0]

    def encode_values(self, event: Event) -> tuple[bytes, dict[str, Any]]:
        """:meth:`encode`, also answering the plain values written (``event.to_avro()``).

        The publisher takes the message key and the header ids from them rather than
        converting the same UUIDs to text a second time.
        """
        writer = self._writers.get(type(event))
        header, schema = writer if writer is not None else self._writer_for(type(event))
        buffer = io.BytesIO()
        buffer.write(header)
        try:
            # Logical values (a decimal with too many places) fail in to_avro(), so inside.
            values = event.to_avro()
            fastavro.schemaless_writer(buffer, schema, values)
        except _ENCODE_ERRORS as error:
            raise EncodeError(f"cannot encode: {error}", record=event.FULL_NAME) from error
        return buffer.getvalue(), values

    def _writer_for(self, event_type: type[Event]) -> tuple[bytes, ParsedSchema]:
        schema_id = self._schemas.id_for(event_type.SUBJECT, event_type.AVRO_SCHEMA)
        writer = (frame_header(schema_id), parse_plain(event_type.AVRO_SCHEMA))
        self._writers[event_type] = writer
        return writer

    # -- decoding -----------------------------------------------------------------------

    def schema_id_of(self, data: bytes) -> int:
        """The writer schema id of a frame (validates the header only)."""
        return read_header(data)

    def writer_name(self, data: bytes) -> str:
        """The full name of the record a frame was written as (asks the registry once per id)."""
        return full_name_of(self._writer_text(read_header(data)))

    def decode(self, data: bytes, reader: type[E]) -> E:
        """Decode a frame into ``reader``, resolving the writer's schema against the reader's."""
        schema_id = read_header(data)
        plan = self._plans.get((schema_id, reader)) or self._plan(schema_id, reader)
        buffer = io.BytesIO(data)
        buffer.seek(HEADER_SIZE)
        try:
            raw = fastavro.schemaless_reader(
                buffer,
                plan.writer_schema,
                plan.reader_schema,
                # Values of unions with several named branches come back as (name, value);
                # generated from_avro() dispatches on the name.
                return_named_type=True,
                return_named_type_override=True,
            )
        except SchemaResolutionError as error:
            raise IncompatibleWriter(
                reader=reader.FULL_NAME,
                writer=self.writer_name(data),
                schema_id=schema_id,
                reasons=[str(error)],
            ) from error
        except _DECODE_ERRORS as error:
            raise DecodeError(
                f"corrupt or truncated body: {type(error).__name__}: {error}",
                schema_id=schema_id,
                record=reader.FULL_NAME,
            ) from error
        if buffer.tell() != len(data):
            raise DecodeError(
                f"{len(data) - buffer.tell()} byte(s) left after the body",
                schema_id=schema_id,
                record=reader.FULL_NAME,
            )
        if not isinstance(raw, dict):
            raise DecodeError(
                f"writer schema is not a record but {type(raw).__name__}",
                schema_id=schema_id,
                record=reader.FULL_NAME,
            )
        try:
            return reader.from_avro(raw)
        except _DECODE_ERRORS as error:
            raise DecodeError(
                f"body does not convert to {reader.__name__}: {error}",
                schema_id=schema_id,
                record=reader.FULL_NAME,
            ) from error

    def writer_text(self, schema_id: int) -> str:
        """The writer schema registered as ``schema_id`` (asks the registry once per id).

        Raises :class:`UnknownSchemaId` when no schema has that id. It may block.
        """
        return self._writer_text(schema_id)

    def prepare_read(self, schema_id: int, reader: type[Event]) -> None:
        """Resolve how to read ``schema_id`` into ``reader`` now, so decoding asks no registry.

        It blocks on the registry when the writer schema is not cached yet: call it off the
        event loop.
        """
        if (schema_id, reader) not in self._plans:
            self._plan(schema_id, reader)

    def decode_any(self, data: bytes, readers: Mapping[str, type[Event]]) -> Event:
        """Decode a frame into the reader class registered for the writer's record name."""
        name = self.writer_name(data)
        reader = readers.get(name)
        if reader is None:
            raise IncompatibleWriter(
                reader=" | ".join(sorted(readers)) or "(none)",
                writer=name,
                schema_id=read_header(data),
                reasons=[f"no reader class for {name}"],
            )
        return self.decode(data, reader)

    def _writer_text(self, schema_id: int) -> str:
        text = self._writer_texts.get(schema_id)
        if text is None:
            text = self._schemas.schema_by_id(schema_id)
            self._writer_texts[schema_id] = text
        return text

    def _plan(self, schema_id: int, reader: type[Event]) -> _ReadPlan:
        writer_text = self._writer_text(schema_id)
        try:
            writer_schema = parse_plain(writer_text)
        except (ValueError, fastavro.schema.SchemaParseException) as error:
            raise DecodeError(
                f"writer schema is not valid Avro: {error}", schema_id=schema_id
            ) from error
        same = _same_schema(writer_text, reader.AVRO_SCHEMA)
        plan = _ReadPlan(writer_schema, None if same else parse_plain(reader.AVRO_SCHEMA))
        self._plans[(schema_id, reader)] = plan
        return plan


def _same_schema(left: str, right: str) -> bool:
    """Whether two schema texts describe the same schema, so no resolution is needed."""
    return left == right or json.loads(left) == json.loads(right)
