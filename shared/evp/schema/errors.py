"""Errors of the schema model: a text that is not a valid Avro schema, an unknown level.

They carry no HTTP status: the registry translates them into its Confluent-coded errors
at its boundary (:mod:`evp.registry._translate`), and tools print them as they are.
"""

from __future__ import annotations

from evp.errors import EvpError

__all__ = ["InvalidCompatibilityLevelError", "InvalidSchemaError", "SchemaError"]


class SchemaError(EvpError):
    """Root of the errors raised while parsing or comparing schemas."""


class InvalidSchemaError(SchemaError):
    """The text is not a schema Avro (nor Confluent's registry) accepts; ``detail`` says why."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"Invalid schema: {detail}")
        self.detail = detail


class InvalidCompatibilityLevelError(SchemaError):
    """``level`` names none of the seven compatibility levels."""

    def __init__(self, level: object) -> None:
        super().__init__(f"invalid compatibility level {level!r}", level=str(level))
        self.level = level
