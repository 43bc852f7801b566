"""Errors of the schema tooling: an invalid catalog, and codegen that cannot proceed."""

from __future__ import annotations

from collections.abc import Sequence

from evp.errors import EvpError
from evp_codegen.findings import Finding

__all__ = ["CatalogInvalid", "CodegenError", "SchemaToolingError", "UnsupportedSchema"]


class SchemaToolingError(EvpError):
    """Root of the errors raised by ``evp_codegen``."""


class CatalogInvalid(SchemaToolingError):
    """``schemas/`` has errors; each is listed with its file, JSON path and rule."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        super().__init__(f"schemas/ has {len(findings)} error(s); run `evp schemas lint`")
        self.findings = list(findings)

    def __str__(self) -> str:
        return "\n".join([self.message, *(f"  {f.format()}" for f in self.findings)])


class CodegenError(SchemaToolingError):
    """Code could not be generated or written."""


class UnsupportedSchema(CodegenError):
    """A schema construct the generator cannot express as a typed class."""

    def __init__(self, message: str, *, schema: str, field_path: str) -> None:
        super().__init__(message, schema=schema, field_path=field_path)
