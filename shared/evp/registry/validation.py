"""The strict checks Confluent's registry applies to new schemas under ``validateFields``.

:func:`~evp.schema.parsed.parse_schema` already refuses what Confluent refuses always
(defaults that do not match their type, invalid names, namespaces and enum symbols). With
``validateFields`` (or ``validateNewSchemas``) set in a subject's config, a new schema's
record field names must also be valid Avro names, as Java's parser requires when it
validates; without it, such field names are accepted, as Confluent accepts them.
"""

from __future__ import annotations

import re

import avro.schema

from evp.registry.errors import InvalidSchemaError
from evp.schema.parsed import ParsedSchema

__all__ = ["validate_strictly"]

_AVRO_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def validate_strictly(schema: ParsedSchema, *, subject: str | None = None) -> None:
    """Refuse ``schema`` (42201) if a record field's name is not a valid Avro name."""
    pending: list[avro.schema.Schema] = [schema.avro]
    seen: set[str] = set()
    while pending:
        node = pending.pop()
        if isinstance(node, avro.schema.NamedSchema):
            if node.fullname in seen:
                continue
            seen.add(node.fullname)
        if isinstance(node, avro.schema.RecordSchema):
            for item in node.fields:
                if not _AVRO_NAME.fullmatch(item.name):
                    raise InvalidSchemaError(
                        f"Illegal character in field name {item.name!r} of record {node.fullname}",
                        subject=subject,
                    )
                pending.append(item.type)
        elif isinstance(node, avro.schema.ArraySchema):
            pending.append(node.items)
        elif isinstance(node, avro.schema.MapSchema):
            pending.append(node.values)
        elif isinstance(node, avro.schema.UnionSchema):
            pending.extend(node.schemas)
