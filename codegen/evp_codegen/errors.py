"""Errors of the schema tooling: an invalid catalog, and codegen that cannot proceed."""

from __future__ import annotations

from collections.abc import Sequence

import httpx2
from confluent_kafka.schema_registry.error import SchemaRegistryError

from evp.errors import EvpError
from evp_codegen.findings import Finding

__all__ = [
    "REGISTRY_CLIENT_ERRORS",
    "CatalogInvalid",
    "CodegenError",
    "RegistryRequestFailed",
    "SchemaToolingError",
    "UnsupportedSchema",
]


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


# What confluent-kafka's registry client raises: the registry's answer, or the transport's.
REGISTRY_CLIENT_ERRORS = (SchemaRegistryError, httpx2.TransportError, OSError)


class RegistryRequestFailed(SchemaToolingError):
    """The schema registry refused or failed a request the tooling made."""

    def __init__(self, reason: str, *, registry: str, subject: str | None = None) -> None:
        super().__init__(reason, registry=registry, subject=subject)

    @classmethod
    def from_client_error(
        cls, error: Exception, *, registry: str, subject: str | None = None
    ) -> RegistryRequestFailed:
        """Translate confluent-kafka's ``SchemaRegistryError`` (or a connection error)."""
        status = getattr(error, "http_status_code", None)
        if status is None:
            return cls(f"cannot reach the registry: {error}", registry=registry, subject=subject)
        code = getattr(error, "error_code", None)
        message = getattr(error, "error_message", str(error))
        return cls(
            f"registry answered {status} ({code}): {message}", registry=registry, subject=subject
        )
