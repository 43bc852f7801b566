"""The start-up check that every reply a saga waits for can be read, as registered today.

A participant (inventory, payments) may have registered a new schema version for a reply
that the generated class this service was built with cannot read. Rather than finding out
when the first such reply is dead-lettered mid-saga, the service refuses to start, naming
the step and the event (:class:`~shop.orders.errors.UnreadableReply`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from evp.messaging import MessagingSettings
from evp.messaging.verdicts import ReadVerdicts
from shop.orders.engine import Saga
from shop.orders.errors import UnreadableReply

__all__ = ["LatestSchemas", "RegisteredSchema", "RegistryLatestSchemas", "check_participants"]


@dataclasses.dataclass(frozen=True)
class RegisteredSchema:
    """A subject's latest schema: its global id and its text."""

    schema_id: int
    text: str


class LatestSchemas(Protocol):
    """The latest registered schema of a subject; ``None`` when the subject has none."""

    def latest(self, subject: str) -> RegisteredSchema | None:
        """The subject's latest version."""
        ...


class RegistryLatestSchemas:
    """:class:`LatestSchemas` from the schema registry the bus uses (same URL, credentials)."""

    def __init__(self, settings: MessagingSettings) -> None:
        config: dict[str, Any] = {"url": settings.schema_registry_url, "timeout": 10}
        if settings.schema_registry_credentials is not None:
            config["basic.auth.user.info"] = settings.schema_registry_credentials.user_info()
        self._config = config

    def latest(self, subject: str) -> RegisteredSchema | None:
        """The subject's latest version, asked of the registry (blocking)."""
        with SchemaRegistryClient(self._config) as client:
            try:
                found = client.get_latest_version(subject)
            except SchemaRegistryError as error:
                if error.http_status_code == 404:
                    return None
                raise
        return RegisteredSchema(int(found.schema_id), str(found.schema.schema_str))


def check_participants(saga: Saga[Any], schemas: LatestSchemas) -> int:
    """Raise :class:`UnreadableReply` for the first reply class that cannot read its
    subject's latest schema; how many (step, reply) pairs were checked otherwise."""
    verdicts = ReadVerdicts()
    pairs = saga.replies()
    for step, reply in pairs:
        found = schemas.latest(reply.SUBJECT)
        if found is None:
            raise UnreadableReply(
                step, reply.FULL_NAME, reply.SUBJECT, (), why="the subject is not registered"
            )
        problems = verdicts.problems(found.schema_id, found.text, reply)
        if problems:
            raise UnreadableReply(step, reply.FULL_NAME, reply.SUBJECT, problems)
    return len(pairs)
