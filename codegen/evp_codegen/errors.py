"""Errors of the schema tooling: code that cannot be generated, a gate that cannot run."""

from __future__ import annotations

from evp.errors import EvpError

__all__ = ["CodegenError", "SchemaToolingError", "UnsupportedSchema"]


class SchemaToolingError(EvpError):
    """Root of the errors raised by ``evp_codegen``."""


class CodegenError(SchemaToolingError):
    """Code could not be generated or written."""


class UnsupportedSchema(CodegenError):
    """A schema construct the generator cannot express as a typed class."""

    def __init__(self, message: str, *, schema: str, field_path: str) -> None:
        super().__init__(message, schema=schema, field_path=field_path)
