"""Writer schemas kept in the store, so that it can be read without the registry.

The store records the schema of every class it writes (once per class and process), so
``evp replay`` and other offline readers decode a service's events from its database alone.
"""

from __future__ import annotations

from collections.abc import Mapping

from evp.avro import AvroCodec, SchemaNotRegistered, UnknownSchemaId
from evp.eventstore.recorder import StreamRecorder

__all__ = ["StoredSchemas", "codec_from_store"]


class StoredSchemas:
    """A read-only :class:`~evp.avro.SchemaLookup` over schemas by id; it cannot encode."""

    def __init__(self, schemas: Mapping[int, str]) -> None:
        self._schemas = dict(schemas)

    def schema_by_id(self, schema_id: int) -> str:
        """The writer schema kept under ``schema_id``."""
        try:
            return self._schemas[schema_id]
        except KeyError:
            raise UnknownSchemaId(schema_id) from None

    def id_for(self, subject: str, schema: str) -> int:
        """Always refuses: events are written with the registry's ids, never these."""
        raise SchemaNotRegistered(subject)


async def codec_from_store(recorder: StreamRecorder) -> AvroCodec:
    """A decoding-only codec over the writer schemas ``recorder`` keeps."""
    return AvroCodec(StoredSchemas(await recorder.schemas()))
