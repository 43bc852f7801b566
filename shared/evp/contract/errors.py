"""Errors of the contract: an invalid ``schemas/``, and a registry that refused or failed."""

from __future__ import annotations

from collections.abc import Sequence

import httpx2
from confluent_kafka.schema_registry.error import SchemaRegistryError

from evp.contract.findings import Finding
from evp.errors import EvpError

__all__ = ["REGISTRY_CLIENT_ERRORS", "CatalogInvalid", "ContractError", "RegistryRequestFailed"]


class ContractError(EvpError):
    """Root of the errors raised while reading ``schemas/`` or putting it into a registry."""


class CatalogInvalid(ContractError):
    """``schemas/`` has errors; each is listed with its file, JSON path and rule."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        super().__init__(f"schemas/ has {len(findings)} error(s); run `evp schemas lint`")
        self.findings = list(findings)

    def __str__(self) -> str:
        return "\n".join([self.message, *(f"  {f.format()}" for f in self.findings)])


# What confluent-kafka's registry client raises: the registry's answer, or the transport's.
REGISTRY_CLIENT_ERRORS = (SchemaRegistryError, httpx2.TransportError, OSError)


class RegistryRequestFailed(ContractError):
    """The schema registry refused or failed a request made on the contract's behalf."""

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
