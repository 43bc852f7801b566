"""Subjects' latest schemas read from a Confluent-compatible schema registry."""

from __future__ import annotations

import json
from typing import Any

from confluent_kafka.schema_registry import SchemaRegistryClient

from evp.contract.catalog import Subject
from evp.contract.errors import REGISTRY_CLIENT_ERRORS, RegistryRequestFailed
from evp_codegen.errors import UnsupportedSchema

__all__ = ["RegistrySource"]


class RegistrySource:
    """Reads each subject's latest version over HTTP with confluent-kafka's client.

    Use it as a context manager (or call :meth:`close`) to release its connections.
    """

    def __init__(self, url: str) -> None:
        self._url = url
        self._client = SchemaRegistryClient({"url": url})

    def __enter__(self) -> RegistrySource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def latest(self, subject: Subject) -> tuple[int, dict[str, Any]]:
        """The latest registered version of ``subject`` and its schema."""
        try:
            registered = self._client.get_latest_version(subject.name)
        except REGISTRY_CLIENT_ERRORS as error:
            raise RegistryRequestFailed.from_client_error(
                error, registry=self._url, subject=subject.name
            ) from error
        if registered.schema.references:
            raise UnsupportedSchema(
                "schemas with references cannot be generated from a registry; "
                "register self-contained schemas with `evp schemas register`",
                schema=subject.name,
                field_path="$",
            )
        schema: dict[str, Any] = json.loads(registered.schema.schema_str or "null")
        return int(registered.version or 0), schema
