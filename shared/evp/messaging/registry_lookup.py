"""The codec's :class:`~evp.avro.SchemaLookup` over the schema registry, with schema modes.

Answers are cached for the life of the lookup: a schema id never changes meaning, and a
subject's id for a schema text only appears (ids are never reused), so after warm-up no
message costs a registry call. In strict mode an unregistered schema is refused; in
development mode it is registered, and the registry's verbose reasons are surfaced when it
refuses the schema as incompatible. The calls block; the runtime makes them off the event
loop.

Basic-auth credentials are sent with every request, and kept out of :attr:`url` (which
errors quote): a ``user:password@`` in the URL given is moved out of it.
"""

from __future__ import annotations

import threading
from typing import Any, Self

import httpx
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from evp.avro import SchemaNotRegistered, UnknownSchemaId
from evp.credentials import BasicCredentials, split_credentials
from evp.messaging.config import MessagingSettings
from evp.messaging.errors import IncompatibleSchema, RegistryUnavailable
from evp.settings import SchemaMode

__all__ = ["RegistrySchemaLookup"]

# What the registry client's transport raises: confluent-kafka uses httpx2 when installed,
# httpx otherwise; the verbose-reasons call here uses httpx.
try:
    import httpx2

    _TRANSPORT_ERRORS: tuple[type[Exception], ...] = (httpx.HTTPError, httpx2.HTTPError)
except ImportError:  # pragma: no cover - depends on what confluent-kafka pulled in
    _TRANSPORT_ERRORS = (httpx.HTTPError,)

# Confluent's error codes: subject not found, version not found, schema not found.
_NOT_FOUND = frozenset({40401, 40402, 40403})
_TIMEOUT_S = 10.0


class RegistrySchemaLookup:
    """Schema ids and writer schemas from a Confluent-compatible registry, cached; thread-safe."""

    def __init__(
        self,
        url: str,
        *,
        mode: SchemaMode = SchemaMode.STRICT,
        client: SchemaRegistryClient | None = None,
        credentials: BasicCredentials | None = None,
    ) -> None:
        self.url, in_url = split_credentials(url.rstrip("/"))
        self._credentials = credentials or in_url
        self.mode = mode
        self._given = client
        self._opened: SchemaRegistryClient | None = None
        self._lock = threading.Lock()
        self._texts: dict[int, str] = {}
        self._ids: dict[tuple[str, str], int] = {}
        self.requests = 0
        """How many calls reached the registry client (each at most one HTTP request)."""

    @classmethod
    def from_settings(cls, settings: MessagingSettings) -> RegistrySchemaLookup:
        """The lookup ``settings`` describe: URL, credentials and schema mode."""
        return cls(
            settings.schema_registry_url,
            mode=settings.schema_mode,
            credentials=settings.schema_registry_credentials,
        )

    def schema_by_id(self, schema_id: int) -> str:
        """The schema text registered as ``schema_id``; :class:`UnknownSchemaId` if none."""
        text = self._texts.get(schema_id)
        if text is not None:
            return text
        try:
            schema = self._call(self._client.get_schema, schema_id)
        except SchemaRegistryError as error:
            if error.error_code in _NOT_FOUND or error.http_status_code == 404:
                raise UnknownSchemaId(schema_id) from error
            raise self._unavailable(error) from error
        text = str(schema.schema_str)
        with self._lock:
            self._texts[schema_id] = text
        return text

    def id_for(self, subject: str, schema: str) -> int:
        """The id of ``schema`` under ``subject``, registering it first in development mode.

        Raises :class:`~evp.avro.SchemaNotRegistered` in strict mode when the registry does
        not have it, and :class:`IncompatibleSchema` (with the registry's reasons) when
        development mode tries to register it and the registry refuses.
        """
        key = (subject, schema)
        schema_id = self._ids.get(key)
        if schema_id is not None:
            return schema_id
        try:
            schema_id = int(
                self._call(self._client.lookup_schema, subject, Schema(schema, "AVRO")).schema_id
            )
        except SchemaRegistryError as error:
            if error.error_code not in _NOT_FOUND and error.http_status_code != 404:
                raise self._unavailable(error) from error
            if self.mode is SchemaMode.STRICT:
                raise SchemaNotRegistered(subject) from None
            schema_id = self._register(subject, schema)
        with self._lock:
            self._ids[key] = schema_id
            self._texts.setdefault(schema_id, schema)
        return schema_id

    def close(self) -> None:
        """Close the HTTP client this lookup opened (a later call opens a new one)."""
        opened, self._opened = self._opened, None
        if opened is not None:
            opened.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def _client(self) -> SchemaRegistryClient:
        if self._given is not None:
            return self._given
        if self._opened is None:
            with self._lock:
                if self._opened is None:
                    self._opened = SchemaRegistryClient(self._client_config())
        return self._opened

    def _client_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "url": self.url,
            "max.retries": 2,
            "retries.wait.ms": 200,
            "timeout": _TIMEOUT_S,
        }
        if self._credentials is not None:
            # The Python client takes no basic.auth.credentials.source (the Java one's
            # USER_INFO): user info given is what it sends.
            config["basic.auth.user.info"] = self._credentials.user_info()
        return config

    def _register(self, subject: str, schema: str) -> int:
        try:
            return int(self._call(self._client.register_schema, subject, Schema(schema, "AVRO")))
        except SchemaRegistryError as error:
            if error.http_status_code == 409:
                reasons = self._verbose_reasons(subject, schema) or [str(error.error_message)]
                raise IncompatibleSchema(subject, reasons, registry=self.url) from error
            raise self._unavailable(error) from error

    def _verbose_reasons(self, subject: str, schema: str) -> list[str]:
        """The registry's itemised reasons; the client's own check answers only a bool."""
        self._count()
        try:
            response = httpx.post(
                f"{self.url}/compatibility/subjects/{subject}/versions",
                params={"verbose": "true"},
                json={"schema": schema},
                headers={"Content-Type": "application/vnd.schemaregistry.v1+json"},
                auth=self._auth(),
                timeout=_TIMEOUT_S,
            )
            messages = response.json().get("messages") if response.is_success else None
        except (httpx.HTTPError, ValueError):
            return []
        return [str(m) for m in messages] if isinstance(messages, list) else []

    def _auth(self) -> httpx.BasicAuth | None:
        if self._credentials is None:
            return None
        return httpx.BasicAuth(self._credentials.user, self._credentials.password.reveal())

    def _count(self) -> None:
        with self._lock:
            self.requests += 1

    def _call(self, method: Any, *args: Any) -> Any:
        self._count()
        try:
            return method(*args)
        except _TRANSPORT_ERRORS as error:
            raise RegistryUnavailable(
                f"{type(error).__name__}: {error}", registry=self.url
            ) from error

    def _unavailable(self, error: SchemaRegistryError) -> RegistryUnavailable:
        return RegistryUnavailable(
            f"{error.error_message} (error code {error.error_code})",
            registry=self.url,
            status=error.http_status_code,
        )
