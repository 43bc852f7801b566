"""Avro for typed events: the wire format, logical-type conversions, and the codec."""

from evp.avro.codec import AvroCodec
from evp.avro.errors import (
    AvroError,
    DecodeError,
    EncodeError,
    IncompatibleWriter,
    UnknownSchemaId,
    WireFormatError,
)
from evp.avro.lookup import InMemorySchemaLookup, SchemaLookup, SchemaNotRegistered
from evp.avro.record import AvroRecord, EnvelopeLike, Event

__all__ = [
    "AvroCodec",
    "AvroError",
    "AvroRecord",
    "DecodeError",
    "EncodeError",
    "EnvelopeLike",
    "Event",
    "InMemorySchemaLookup",
    "IncompatibleWriter",
    "SchemaLookup",
    "SchemaNotRegistered",
    "UnknownSchemaId",
    "WireFormatError",
]
