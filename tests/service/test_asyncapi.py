"""A service's AsyncAPI document is read off its declarations and served at /asyncapi.json."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from evp.events import (
    OrderPlaced,
    PaymentFailed,
    PaymentProcessed,
    PaymentRequested,
    RefundRequested,
    UserRegistered,
)
from evp.eventstore.postgres import PostgresTransaction
from evp.messaging.config import MessagingSettings
from evp.messaging.topics import TopicNames
from evp.service import (
    HandlerContext,
    InvalidService,
    SagaDoc,
    SagaReplyDoc,
    SagaStepDoc,
    Service,
    service_document,
)
from evp.service.testing import service_settings
from evp.testing.asyncapi import references, unresolved


class _Payers:
    """Who paid what, from Kafka."""

    name = "payers"
    event_types = frozenset({UserRegistered.FULL_NAME})

    async def handle(self, event: Any, transaction: PostgresTransaction) -> None:
        """Never called here: the document only reads the declaration."""

    async def reset(self, transaction: PostgresTransaction) -> None:
        """Never called here."""


def _service() -> Service:
    """A payments-like service: publishes two types, handles one in its group and one in
    another, feeds a projection from Kafka and only records OrderPlaced."""
    service = Service(
        "payments-docs",
        publishes=(PaymentProcessed, PaymentFailed),
        records=(OrderPlaced,),
        version="1.2.3",
        description="Charges orders.",
    )

    @service.handles(PaymentRequested, retries=3, timeout=10)
    async def charge(event: PaymentRequested, context: HandlerContext) -> None:
        """Charge the order once."""

    @service.handles(RefundRequested, group="payments-audit")
    async def audit(event: RefundRequested, context: HandlerContext) -> None:
        """Keep a line per refund asked for."""

    service.projection(_Payers(), source="kafka")
    return service


def _document(prefix: str = "") -> dict[str, Any]:
    return service_document(_service(), topics=TopicNames(prefix))


def test_the_document_is_asyncapi_3_named_for_the_service() -> None:
    """The document says AsyncAPI 3.0.0 and carries the service's name, version and text."""
    document = _document()
    assert document["asyncapi"] == "3.0.0"
    assert document["info"] == {
        "title": "payments-docs",
        "version": "1.2.3",
        "description": "Charges orders.",
    }


def test_each_published_type_is_a_send_operation_on_its_topic() -> None:
    """A published type is a ``send`` operation on its topic's channel, naming its message."""
    operations = _document()["operations"]
    assert operations["sendPaymentProcessed"]["action"] == "send"
    assert operations["sendPaymentProcessed"]["channel"] == {"$ref": "#/channels/payments"}
    assert operations["sendPaymentFailed"]["messages"] == [
        {"$ref": "#/channels/payments/messages/PaymentFailed"}
    ]


def test_a_handled_type_is_a_receive_operation_naming_group_and_handler() -> None:
    """A handler's type is a ``receive`` operation with its consumer group and function."""
    received = _document()["operations"]["receivePaymentRequested"]
    assert received["action"] == "receive"
    assert received["channel"] == {"$ref": "#/channels/orders"}
    assert received["x-evp-group"] == "payments-docs"
    assert received["x-evp-handler"].endswith("charge")
    assert received["x-evp-retries"] == 3
    assert received["summary"] == "Charge the order once."
    assert received["bindings"]["kafka"]["groupId"] == {"type": "string", "enum": ["payments-docs"]}


def test_a_handler_in_another_group_names_the_group_in_its_operation_id() -> None:
    """A handler in a group other than the service's gets an id naming that group."""
    operations = _document()["operations"]
    assert operations["receiveRefundRequestedInPaymentsAudit"]["x-evp-group"] == "payments-audit"


def test_a_kafka_projection_receives_its_types_in_its_own_group() -> None:
    """A Kafka-fed projection's type is a ``receive`` operation naming the projection."""
    received = _document()["operations"]["receiveUserRegisteredForPayers"]
    assert received["x-evp-projection"] == "payers"
    assert received["x-evp-group"] == "payments-docs.payers"
    assert received["channel"] == {"$ref": "#/channels/users"}


def test_a_type_only_recorded_appears_nowhere() -> None:
    """A type the service only keeps in its store is neither sent nor received over Kafka."""
    document = _document()
    assert "OrderPlaced" not in json.dumps(document["operations"])
    assert "OrderPlaced" not in document["channels"].get("orders", {}).get("messages", {})


def test_channel_addresses_carry_the_topic_prefix() -> None:
    """Each channel is keyed by its logical topic and addressed by the deployment's topic."""
    channels = _document(prefix="run-7.")["channels"]
    assert {key: channel["address"] for key, channel in channels.items()} == {
        "payments": "run-7.payments",
        "orders": "run-7.orders",
        "users": "run-7.users",
    }


def test_a_message_carries_its_avro_schema_subject_and_key() -> None:
    """A message's payload is its Avro schema; it names its subject, version and key field."""
    message = _document()["channels"]["payments"]["messages"]["PaymentProcessed"]
    assert message["payload"] == {
        "schemaFormat": "application/vnd.apache.avro;version=1.9.0",
        "schema": json.loads(PaymentProcessed.AVRO_SCHEMA),
    }
    assert message["name"] == "PaymentProcessed"
    assert message["title"] == "Payment processed"
    assert message["x-evp-subject"] == PaymentProcessed.SUBJECT
    assert message["x-evp-version"] == PaymentProcessed.VERSION
    assert message["bindings"]["kafka"]["key"]["type"] == "string"
    assert PaymentProcessed.KEY_FIELD in message["bindings"]["kafka"]["key"]["description"]


def test_every_operation_refers_to_a_message_of_its_own_channel() -> None:
    """Each operation's messages are messages of the channel it acts on (AsyncAPI 3's rule)."""
    for operation in _document()["operations"].values():
        assert operation["action"] in {"send", "receive"}
        channel = operation["channel"]["$ref"]
        assert operation["messages"]
        for message in operation["messages"]:
            assert message["$ref"].startswith(channel + "/messages/")


def test_every_reference_resolves_inside_the_document() -> None:
    """Each ``$ref`` names a channel or message that the document holds."""
    document = _document()
    assert list(references(document))
    assert unresolved(document) == []


def test_a_server_is_listed_when_the_bootstrap_address_is_known() -> None:
    """Given Kafka's bootstrap address, the document lists it as a kafka server."""
    document = service_document(_service(), topics=TopicNames(), server="broker:9092")
    assert document["servers"] == {
        "kafka": {
            "host": "broker:9092",
            "protocol": "kafka",
            "description": "A Kafka bootstrap server.",
        }
    }


def test_a_documented_saga_names_its_events() -> None:
    """A saga the service documents is in ``x-evp-sagas``, its events by full name."""
    service = _service()
    service.documents_saga(
        SagaDoc(
            "charge",
            starts_with=PaymentRequested,
            steps=(
                SagaStepDoc(
                    "capture",
                    started_by=PaymentRequested,
                    waits_for=(SagaReplyDoc(PaymentFailed, "failure"),),
                    compensation=RefundRequested,
                    deadline="capture_timeout",
                ),
            ),
            ends_with=(PaymentProcessed,),
        )
    )
    (saga,) = service_document(service, topics=TopicNames())["x-evp-sagas"]
    assert saga == {
        "name": "charge",
        "startsWith": "shop.orders.PaymentRequested",
        "steps": [
            {
                "name": "capture",
                "startedBy": "shop.orders.PaymentRequested",
                "waitsFor": [{"event": "shop.payments.PaymentFailed", "outcome": "failure"}],
                "compensation": "shop.orders.RefundRequested",
                "deadline": "capture_timeout",
            }
        ],
        "endsWith": ["shop.payments.PaymentProcessed"],
        "afterEnd": [],
    }


def test_a_saga_is_documented_once() -> None:
    """Documenting a second saga of the same name is refused."""
    service = _service()
    saga = SagaDoc("charge", starts_with=PaymentRequested, steps=())
    service.documents_saga(saga)
    with pytest.raises(InvalidService, match="two sagas named charge"):
        service.documents_saga(saga)


def test_the_app_serves_the_document_outside_its_openapi() -> None:
    """``GET /asyncapi.json`` answers the document with the settings' topic prefix, and the
    OpenAPI document does not list it."""
    service = _service()
    settings = service_settings(
        service.name,
        database_url="postgresql://nobody@127.0.0.1:1/never-connected",
        messaging=MessagingSettings(bootstrap_servers=None, topic_prefix="served."),
    )
    # No lifespan (no `with`): the route needs no running part, only the declarations.
    client = TestClient(service.app(settings))
    answer = client.get("/asyncapi.json")
    assert answer.status_code == 200
    assert answer.json() == service_document(service, topics=TopicNames("served."))
    assert "/asyncapi.json" not in client.get("/openapi.json").json()["paths"]
