"""A service's AsyncAPI 3.0 document, built from what the service declares.

Like FastStream's, the document is read off the declarations the kit runs (the events a
service publishes, its handlers and their consumer groups, its Kafka-fed projections), so
it cannot drift from the code: a handler added is a ``receive`` operation, an event type
published a ``send`` one. Types a service only records (copies of others' events kept in
its store) travel over no topic on its behalf and are left out.

One channel per topic, keyed by its logical name (``payments``) with the deployment's
Kafka topic as its address (``test-1234.payments``); its messages, keyed by the event's
short name, carry the event's Avro schema as their payload.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from evp.avro import Event
from evp.messaging.headers import (
    CAUSATION_ID,
    CONTENT_TYPE,
    CORRELATION_ID,
    EVENT_ID,
    EVENT_TYPE,
    TRACEPARENT,
    WIRE_CONTENT_TYPE,
)
from evp.messaging.topics import TopicNames
from evp.service.runtime import projection_group
from evp.service.saga_doc import SagaDoc, SagaReplyDoc

if TYPE_CHECKING:
    from evp.service.service import Service

__all__ = [
    "ASYNCAPI_VERSION",
    "AVRO_SCHEMA_FORMAT",
    "MESSAGE_CONTENT_TYPE",
    "kafka_servers",
    "service_document",
]

ASYNCAPI_VERSION = "3.0.0"
AVRO_SCHEMA_FORMAT = "application/vnd.apache.avro;version=1.9.0"
"""How a message's payload schema is written: Avro schema JSON (AsyncAPI's schema format)."""
MESSAGE_CONTENT_TYPE = WIRE_CONTENT_TYPE.decode()
"""What a message's value is, as its ``content-type`` header says: Avro binary behind the
Confluent wire-format header."""
_KAFKA_BINDING_VERSION = "0.5.0"
_WORD = re.compile(r"[A-Z][a-z0-9]*|[a-z0-9]+")


def service_document(
    service: Service, *, topics: TopicNames, server: str | None = None
) -> dict[str, Any]:
    """``service``'s AsyncAPI 3.0 document (plain JSON values).

    ``topics`` gives the Kafka topic of each event type (the deployment's prefix);
    ``server``, Kafka's bootstrap address, adds the document's ``servers``.
    """
    builder = _Builder(topics)
    for event in service.publishes:
        builder.operation(f"send{_short(event)}", "send", event, {})
    for spec in service.handlers:
        # The default group is the service's own; a handler in another group is a second
        # consumer of the same events, so its id names the group.
        suffix = "" if spec.group == service.name else f"In{_camel(spec.group)}"
        for event in spec.events:
            builder.operation(
                f"receive{_short(event)}{suffix}",
                "receive",
                event,
                {
                    **_described(spec.handler),
                    "bindings": {"kafka": _group_binding(spec.group)},
                    "x-evp-group": spec.group,
                    "x-evp-handler": spec.name,
                    **({"x-evp-retries": spec.retries} if spec.retries is not None else {}),
                    **({"x-evp-timeout-s": spec.timeout} if spec.timeout is not None else {}),
                },
            )
    for projection, events in service.kafka_projections:
        group = projection_group(service.name, projection)
        for event in events:
            builder.operation(
                f"receive{_short(event)}For{_camel(projection.name)}",
                "receive",
                event,
                {
                    **_described(projection),
                    "bindings": {"kafka": _group_binding(group)},
                    "x-evp-group": group,
                    "x-evp-projection": projection.name,
                },
            )
    info: dict[str, Any] = {"title": service.name, "version": service.version}
    if service.description:
        info["description"] = service.description
    document: dict[str, Any] = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": info,
        "defaultContentType": MESSAGE_CONTENT_TYPE,
    }
    if server:
        document["servers"] = kafka_servers(server)
    document["channels"] = builder.channels
    document["operations"] = builder.operations
    if service.sagas:
        document["x-evp-sagas"] = [_saga(saga) for saga in service.sagas]
    return document


def kafka_servers(bootstrap: str, *, name: str = "kafka") -> dict[str, Any]:
    """AsyncAPI ``servers`` for a Kafka bootstrap list: ``name``, or ``name-1``… for several."""
    hosts = [host.strip() for host in bootstrap.split(",") if host.strip()]
    keys = [name] if len(hosts) == 1 else [f"{name}-{n}" for n in range(1, len(hosts) + 1)]
    return {
        key: {"host": host, "protocol": "kafka", "description": "A Kafka bootstrap server."}
        for key, host in zip(keys, hosts, strict=True)
    }


class _Builder:
    """Collects channels (one per topic) and the operations on them."""

    def __init__(self, topics: TopicNames) -> None:
        self._topics = topics
        self.channels: dict[str, dict[str, Any]] = {}
        self.operations: dict[str, dict[str, Any]] = {}

    def operation(
        self,
        operation_id: str,
        action: str,
        event: type[Event],
        extra: Mapping[str, Any],
    ) -> None:
        channel, message = self._message(event)
        taken = operation_id
        n = 1
        while taken in self.operations:
            n += 1
            taken = f"{operation_id}{n}"
        self.operations[taken] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/{message}"}],
            **extra,
        }

    def _message(self, event: type[Event]) -> tuple[str, str]:
        """The channel id and message id of ``event``, adding both when new."""
        channel = self.channels.setdefault(
            event.TOPIC,
            {"address": self._topics.of(event), "messages": {}, "x-evp-topic": event.TOPIC},
        )
        name = _short(event)
        if name not in channel["messages"]:
            channel["messages"][name] = _message(event)
        return event.TOPIC, name


def _message(event: type[Event]) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(event.AVRO_SCHEMA)
    name = _short(event)
    message: dict[str, Any] = {
        "name": name,
        "title": _title(name),
        "contentType": MESSAGE_CONTENT_TYPE,
        "payload": {"schemaFormat": AVRO_SCHEMA_FORMAT, "schema": schema},
        "headers": _headers(event),
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "description": f"The event's {event.KEY_FIELD}, as UTF-8 text.",
                },
                # The registry's schema id is in the value's first bytes (Confluent framing),
                # under the topic-record subject name.
                "schemaIdLocation": "payload",
                "schemaIdPayloadEncoding": "confluent",
                "schemaLookupStrategy": "TopicRecordNameStrategy",
                "bindingVersion": _KAFKA_BINDING_VERSION,
            }
        },
        "x-evp-event": event.FULL_NAME,
        "x-evp-subject": event.SUBJECT,
        "x-evp-version": event.VERSION,
        "x-evp-key-field": event.KEY_FIELD,
    }
    if isinstance(schema.get("doc"), str):
        message["summary"] = schema["doc"]
    if any(field.get("name") == "envelope" for field in schema.get("fields", [])):
        message["correlationId"] = {
            "description": "Shared by every event of one business flow.",
            "location": "$message.payload#/envelope/correlation_id",
        }
    return message


def _headers(event: type[Event]) -> dict[str, Any]:
    """The Kafka headers every published event carries (:mod:`evp.messaging.headers`)."""
    return {
        "type": "object",
        "properties": {
            EVENT_TYPE: {"type": "string", "const": event.FULL_NAME},
            EVENT_ID: {"type": "string", "format": "uuid"},
            CORRELATION_ID: {"type": "string", "format": "uuid"},
            CAUSATION_ID: {
                "type": "string",
                "description": "The causing event's id; empty when a request caused it.",
            },
            CONTENT_TYPE: {"type": "string", "const": MESSAGE_CONTENT_TYPE},
            TRACEPARENT: {
                "type": "string",
                "description": "W3C trace context: the correlation id is the trace.",
            },
        },
    }


def _group_binding(group: str) -> dict[str, Any]:
    return {
        "groupId": {"type": "string", "enum": [group]},
        "bindingVersion": _KAFKA_BINDING_VERSION,
    }


def _described(thing: object) -> dict[str, str]:
    """The first paragraph of ``thing``'s docstring as a ``summary``, when it has one."""
    doc = getattr(thing, "__doc__", None)
    if not isinstance(doc, str) or not doc.strip():
        return {}
    return {"summary": " ".join(doc.strip().split("\n\n")[0].split())}


def _saga(saga: SagaDoc) -> dict[str, Any]:
    document: dict[str, Any] = {"name": saga.name}
    if saga.description:
        document["description"] = saga.description
    document["startsWith"] = saga.starts_with.FULL_NAME
    document["steps"] = [
        {
            "name": step.name,
            "startedBy": step.started_by.FULL_NAME,
            "waitsFor": _replies(step.waits_for),
            "compensation": None if step.compensation is None else step.compensation.FULL_NAME,
            "deadline": step.deadline,
        }
        for step in saga.steps
    ]
    document["endsWith"] = [event.FULL_NAME for event in saga.ends_with]
    document["afterEnd"] = _replies(saga.after_end)
    return document


def _replies(replies: Iterable[SagaReplyDoc]) -> list[dict[str, str]]:
    return [{"event": reply.event.FULL_NAME, "outcome": reply.outcome} for reply in replies]


def _short(event: type[Event]) -> str:
    return event.FULL_NAME.rpartition(".")[2]


def _title(name: str) -> str:
    """``PaymentProcessed`` → ``Payment processed``."""
    words = _WORD.findall(name)
    return " ".join([words[0], *(word.lower() for word in words[1:])]) if words else name


def _camel(name: str) -> str:
    """``orders_by_user`` or ``orders-audit`` → ``OrdersByUser``, ``OrdersAudit``."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name))
