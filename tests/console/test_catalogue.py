"""The event catalogue and the platform's AsyncAPI document, from schemas/ and the six services."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from evp.console.catalogue import build_catalogue, platform_document, service_documents
from evp.contract import Catalog, load_catalog
from evp.messaging.topics import TopicNames
from evp.service import UnknownService
from evp.testing.asyncapi import references, unresolved

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
SHOP = ("analytics", "inventory", "notifications", "orders", "payments", "users")


@functools.cache
def _catalog() -> Catalog:
    return load_catalog(SCHEMAS).require_valid()


@functools.cache
def _documents() -> dict[str, dict[str, Any]]:
    return service_documents(topics=TopicNames("cat."))


def _catalogue(**view: Any) -> dict[str, Any]:
    return build_catalogue(_catalog(), _documents(), **view)


def _event(name: str, **view: Any) -> dict[str, Any]:
    found: list[dict[str, Any]] = [e for e in _catalogue(**view)["events"] if e["name"] == name]
    assert len(found) == 1, name
    return found[0]


def test_the_loader_finds_the_six_installed_services() -> None:
    """Every service of the evp.services entry points has a document, under its name."""
    assert sorted(_documents()) == list(SHOP)
    assert all(doc["info"]["title"] == name for name, doc in _documents().items())


def test_the_loader_refuses_a_name_no_service_has() -> None:
    """Asking for a service that is not installed names the ones that are."""
    with pytest.raises(UnknownService, match="payments"):
        service_documents(["nobody"], topics=TopicNames())


def test_every_subject_of_the_contract_is_an_event() -> None:
    """The catalogue lists each subject of schemas/ once, with its topic, key and doc."""
    events = _catalogue()["events"]
    assert sorted(e["subject"] for e in events) == sorted(_catalog().subjects)
    placed = _event("OrderPlaced")
    assert (placed["full_name"], placed["topic"], placed["key"]) == (
        "shop.orders.OrderPlaced",
        "orders",
        "order_id",
    )
    assert placed["doc"].startswith("A user placed an order")


def test_a_command_has_its_producer_and_its_consumer() -> None:
    """PaymentRequested is sent by orders and handled by payments in the payments group."""
    requested = _event("PaymentRequested")
    assert requested["producers"] == ["orders"]
    assert {
        "service": "payments",
        "group": "payments",
        "handler": "on_payment_requested",
    } in requested["consumers"]


def test_an_event_lists_every_consuming_service() -> None:
    """OrderPlaced is consumed by inventory and by analytics."""
    consumers = {c["service"] for c in _event("OrderPlaced")["consumers"]}
    assert {"inventory", "analytics"} <= consumers


def test_a_kafka_projection_is_a_consumer_naming_the_projection() -> None:
    """ProductAdded feeds the orders service's catalogue projection, in its own group."""
    assert {"service": "orders", "group": "orders.catalogue", "projection": "catalogue"} in (
        _event("ProductAdded")["consumers"]
    )


def test_a_saga_step_lists_its_command() -> None:
    """PaymentRequested starts the order saga's payment step."""
    assert {"service": "orders", "saga": "order", "step": "payment", "role": "starts"} in (
        _event("PaymentRequested")["saga_steps"]
    )


def test_saga_replies_compensations_and_ends_are_named() -> None:
    """A reply says its outcome; a compensation and the saga's end events say their role."""
    assert {
        "service": "orders",
        "saga": "order",
        "step": "payment",
        "role": "reply",
        "outcome": "failure",
    } in _event("PaymentFailed")["saga_steps"]
    roles = {(s["step"], s["role"]) for s in _event("RefundRequested")["saga_steps"]}
    assert ("payment", "compensation") in roles
    assert {(s["step"], s["role"]) for s in _event("OrderPlaced")["saga_steps"]} == {
        (None, "starts saga"),
        ("hold", "starts"),
    }
    assert (None, "ends saga") in {
        (s["step"], s["role"]) for s in _event("OrderConfirmed")["saga_steps"]
    }


def test_a_first_version_has_no_diff() -> None:
    """Version 1 of a subject is its schema and fields, with no diff."""
    (first, _) = _event("PaymentRequested")["versions"]
    assert first["version"] == 1
    assert first["diff"] is None
    assert first["schema"]["name"] == "PaymentRequested"


def test_a_second_version_names_the_field_it_added() -> None:
    """PaymentRequested v2 added payment_token, and the text diff shows it."""
    (_, second) = _event("PaymentRequested")["versions"]
    diff = second["diff"]
    assert diff["added"] == ["payment_token"]
    assert (diff["removed"], diff["changed"]) == ([], [])
    assert diff["text"].startswith("--- v1\n+++ v2\n")
    assert '+      "name": "payment_token",' in diff["text"]


def test_a_new_enum_symbol_is_a_changed_type() -> None:
    """OrderCancelled v2's new TIMED_OUT reason is a change of the reason field's type."""
    (change,) = _event("OrderCancelled")["versions"][1]["diff"]["changed"]
    assert change["field"] == "reason"
    assert "TIMED_OUT" in change["to"]
    assert "TIMED_OUT" not in change["from"]


def test_a_new_optional_record_is_one_added_field() -> None:
    """OrderPlaced v2's shipping address is one addition, not one per field it holds."""
    assert _event("OrderPlaced")["versions"][1]["diff"]["added"] == ["shipping_address"]


def test_fields_read_as_types_a_person_would_name() -> None:
    """Fields give readable types, their docs, and a default only where there is one."""
    fields = {f["name"]: f for f in _event("OrderPlaced")["versions"][1]["fields"]}
    assert fields["order_id"]["type"] == "uuid"
    assert fields["lines"]["type"] == "array<OrderLine>"
    assert fields["total"]["type"] == "decimal(12,2)"
    assert fields["shipping_address"]["type"] == "null | ShippingAddress"
    assert fields["shipping_address"]["default"] is None
    assert "default" not in fields["order_id"]


def test_the_registry_level_wins_over_the_declared_one() -> None:
    """The compatibility shown is the registry's when given, the catalog's otherwise."""
    subject = "orders-shop.orders.PaymentRequested"
    assert _event("PaymentRequested")["compatibility"] == "BACKWARD"
    shown = _event("PaymentRequested", levels={subject: "FULL"})
    assert (shown["compatibility"], shown["declared_compatibility"]) == ("FULL", "BACKWARD")


def test_each_version_says_whether_the_registry_holds_it() -> None:
    """Given the registry's versions, each version is marked registered or not; unasked, None."""
    subject = "orders-shop.orders.PaymentRequested"
    asked = _event("PaymentRequested", registered={subject: [1]})["versions"]
    assert [v["registered"] for v in asked] == [True, False]
    assert [v["registered"] for v in _event("PaymentRequested")["versions"]] == [None, None]


def test_topics_list_their_doc_address_and_events() -> None:
    """Each topic of the catalog has its doc, its prefixed address and its events."""
    topics = {t["name"]: t for t in _catalogue()["topics"]}
    assert set(topics) == set(_catalog().topics)
    assert topics["payments"]["address"] == "cat.payments"
    assert "PaymentProcessed" in topics["payments"]["events"]


def test_services_list_what_they_send_and_receive() -> None:
    """Each service lists the events it sends and receives, and its sagas."""
    services = {s["name"]: s for s in _catalogue()["services"]}
    assert sorted(services) == list(SHOP)
    assert "PaymentRequested" in services["payments"]["receives"]
    assert "PaymentProcessed" in services["payments"]["sends"]
    assert services["orders"]["sagas"] == ["order"]


def test_the_platform_document_has_the_asyncapi_3_shape() -> None:
    """The merged document is AsyncAPI 3.0 with a title, a version, servers and channels."""
    document = platform_document(_documents(), servers={"local": "127.0.0.1:9092"})
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"] == "evp shop"
    assert isinstance(document["info"]["version"], str)
    assert document["servers"]["local"]["protocol"] == "kafka"
    for channel in document["channels"].values():
        assert channel["address"].startswith("cat.")
        assert channel["messages"]
    for operation in document["operations"].values():
        assert operation["action"] in {"send", "receive"}
        for message in operation["messages"]:
            assert message["$ref"].startswith(operation["channel"]["$ref"] + "/messages/")


def test_the_platform_document_has_one_channel_per_topic() -> None:
    """Channels of one address from several services are one channel with all its messages."""
    channels = platform_document(_documents())["channels"]
    assert sorted(channels) == sorted(_catalog().topics)
    assert {"OrderPlaced", "PaymentRequested"} <= set(channels["orders"]["messages"])


def test_platform_operation_ids_name_their_service() -> None:
    """Operation ids are prefixed with their service, so two services' ids never clash."""
    operations = platform_document(_documents())["operations"]
    assert operations["payments.receivePaymentRequested"]["x-evp-service"] == "payments"
    assert operations["orders.sendPaymentRequested"]["action"] == "send"


def test_the_platform_document_keeps_the_sagas() -> None:
    """The order saga is in the merged document, naming the service that runs it."""
    sagas = platform_document(_documents())["x-evp-sagas"]
    assert [(s["service"], s["name"]) for s in sagas] == [("orders", "order")]


def test_every_reference_of_the_platform_document_resolves() -> None:
    """Each ``$ref`` of the merged document names a channel or message it holds."""
    document = platform_document(_documents())
    assert len(list(references(document))) > 50
    assert unresolved(document) == []
