"""Inputs of registry operations, validated: subjects, versions and schema requests.

These checks run before any storage is touched, so bad input is refused with Confluent's
error code and never reaches (let alone half-writes) the database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from evp.registry.errors import (
    InvalidSchemaError,
    InvalidSubjectError,
    InvalidVersionError,
    UnprocessableRequestError,
)
from evp.schema.parsed import Reference

__all__ = [
    "LATEST",
    "MAX_SUBJECT_BYTES",
    "SchemaRequest",
    "is_storable",
    "parse_version",
    "validate_subject",
]

# The version number that stands for "the latest live version", as in Confluent's API.
LATEST = -1
# Subjects are keys of B-tree indexes, whose rows Postgres caps at about 2.7 kB.
MAX_SUBJECT_BYTES = 1024
_MAX_VERSION = 2**31 - 1
_INTEGER = re.compile(r"-?[0-9]{1,12}")


def validate_subject(subject: str) -> str:
    """``subject`` if it can name a subject; :class:`InvalidSubjectError` otherwise."""
    if not subject or not subject.strip():
        raise InvalidSubjectError(subject, "it is empty")
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in subject):
        raise InvalidSubjectError(subject, "it contains control characters or invalid Unicode")
    if len(subject.encode()) > MAX_SUBJECT_BYTES:
        raise InvalidSubjectError(
            subject[:64] + "…", f"it is longer than {MAX_SUBJECT_BYTES} bytes"
        )
    return subject


def is_storable(text: str) -> bool:
    """Whether Postgres can hold ``text``: no NUL and no lone surrogates.

    A subject that is not storable cannot exist, so reads answer "not found" for it
    instead of letting the database reject the query.
    """
    if "\x00" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def parse_version(raw: object) -> int:
    """The version ``raw`` names (``"latest"``, -1 or 1 to 2³¹-1); :data:`LATEST` for latest."""
    if isinstance(raw, str):
        text = raw.strip()
        if text.lower() == "latest":
            return LATEST
        # ASCII digits only: str.isdigit() also accepts "¹", which int() refuses.
        if not _INTEGER.fullmatch(text):
            raise InvalidVersionError(raw)
        raw = int(text)
    if (
        isinstance(raw, int)
        and not isinstance(raw, bool)
        and (raw == LATEST or 1 <= raw <= _MAX_VERSION)
    ):
        return raw
    raise InvalidVersionError(raw)


@dataclass(frozen=True)
class SchemaRequest:
    """A schema sent to register, look up or check; ``id`` and ``version`` only in IMPORT mode."""

    schema: str
    references: tuple[Reference, ...] = ()
    schema_type: str = "AVRO"
    id: int | None = None
    version: int | None = None

    @classmethod
    def from_json(cls, body: object) -> SchemaRequest:
        """The request in ``body`` (decoded JSON), as Confluent's clients send it."""
        if not isinstance(body, Mapping):
            raise UnprocessableRequestError("the request body must be a JSON object")
        schema = body.get("schema")
        if not isinstance(schema, str) or not schema.strip():
            raise InvalidSchemaError("Empty schema")
        schema_type = body.get("schemaType") or "AVRO"
        if not isinstance(schema_type, str) or schema_type.upper() != "AVRO":
            raise InvalidSchemaError(f"Invalid schema type {schema_type}; only AVRO is supported")
        return cls(
            schema=schema,
            references=tuple(_reference(item) for item in _list(body.get("references"))),
            id=_optional_id(body.get("id")),
            version=_optional_version(body.get("version")),
        )


def _list(value: object) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise UnprocessableRequestError("references must be a list")
    return value


def _reference(item: object) -> Reference:
    if not isinstance(item, Mapping):
        raise InvalidSchemaError(f"invalid reference {item!r}")
    name, subject, version = item.get("name"), item.get("subject"), item.get("version")
    if not isinstance(name, str) or not name or not isinstance(subject, str):
        raise InvalidSchemaError(f"invalid reference {dict(item)!r}: name and subject are required")
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in name):
        raise InvalidSchemaError(f"invalid reference name {name!r}")
    return Reference(name, validate_subject(subject), parse_version(version))


def _optional_id(value: object) -> int | None:
    # Confluent's clients send -1 (or 0) to mean "no id"; only positive ids are requests.
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value <= 0):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value <= _MAX_VERSION:
        return value
    raise UnprocessableRequestError(f"invalid schema id {value!r}")


def _optional_version(value: object) -> int | None:
    if value is None or value in (0, LATEST):
        return None
    version = parse_version(value)
    return None if version == LATEST else version
