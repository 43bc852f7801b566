"""Naming rules: past-tense specific events, Python-safe names, conventional case."""

from __future__ import annotations

import pytest

from evp.avro.record import AvroRecord, Event
from evp_codegen.lint.naming import GENERATED_MEMBERS, event_name_problem, words
from tests.codegen.builders import SchemaTree, codes, enum, event, fld, record


def rule_of(name: str) -> str | None:
    """The rule an event called ``name`` breaks, if any."""
    problem = event_name_problem(name)
    return None if problem is None else problem[0]


def test_words_split_acronyms() -> None:
    """An acronym stays one word, so SMSSent reads as SMS + Sent."""
    assert words("SMSSent") == ["SMS", "Sent"]


@pytest.mark.parametrize(
    "name",
    [
        "OrderPlaced",
        "PaymentRequested",
        "StockReservationFailed",
        "NotificationSent",
        "UserLoggedIn",
    ],
)
def test_specific_past_tense_names_pass(name: str) -> None:
    """Regular and irregular participles and phrasal verbs are accepted."""
    assert rule_of(name) is None


@pytest.mark.parametrize("name", ["PlaceOrder", "OrderFeed", "ShipOrder"])
def test_names_not_in_the_past_tense(name: str) -> None:
    """A command or a noun in last place is not a past-tense event name."""
    assert rule_of(name) == "EVENT_NAME_NOT_PAST_TENSE"


@pytest.mark.parametrize("name", ["OrderEvent", "OrderPlacedMessage", "Updated", "DataChanged"])
def test_generic_names(name: str) -> None:
    """Filler suffixes and names with no specific noun are generic."""
    assert rule_of(name) == "EVENT_NAME_GENERIC"


def test_generic_suffix_message_suggests_the_stem() -> None:
    """OrderPlacedEvent is told to drop the suffix."""
    problem = event_name_problem("OrderPlacedEvent")
    assert problem is not None
    assert "e.g. OrderPlaced" in problem[1]


def test_command_named_event_is_reported_at_its_name(tree: SchemaTree) -> None:
    """An event file whose record is a command is reported at $.name."""
    tree.add_event(event("PlaceOrder"))
    assert codes(tree.lint(), tree.root) == {
        ("orders/PlaceOrder/v1.avsc", "$.name", "EVENT_NAME_NOT_PAST_TENSE")
    }


def test_generic_event_is_reported_at_its_name(tree: SchemaTree) -> None:
    """An event file whose record ends in Event is reported at $.name."""
    tree.add_event(event("OrderEvent"))
    assert codes(tree.lint(), tree.root) == {
        ("orders/OrderEvent/v1.avsc", "$.name", "EVENT_NAME_GENERIC")
    }


def test_nested_record_names_are_not_events(tree: SchemaTree) -> None:
    """Only the top-level record is an event; a nested OrderLine is fine."""
    tree.add_event(event("OrderPlaced", fld("line", record("OrderLine", fld("sku", "string")))))
    assert tree.lint() == []


def test_type_name_not_upper_camel_is_a_warning(tree: SchemaTree) -> None:
    """A snake_case record name is a style warning."""
    tree.add_event(event("OrderPlaced", fld("line", record("order_line", fld("sku", "string")))))
    findings = tree.lint()
    assert codes(findings, tree.root) == {
        ("orders/OrderPlaced/v1.avsc", "$.fields[2].type.name", "TYPE_NAME_CASE")
    }
    assert findings[0].severity.value == "warning"


def test_field_name_not_snake_case_is_a_warning(tree: SchemaTree) -> None:
    """A camelCase field name is a style warning."""
    tree.add_event(event("OrderPlaced", fld("giftWrap", "boolean")))
    findings = tree.lint()
    assert codes(findings, tree.root) == {
        ("orders/OrderPlaced/v1.avsc", "$.fields[2].name", "FIELD_NAME_CASE")
    }
    assert findings[0].severity.value == "warning"


@pytest.mark.parametrize("name", ["class", "from", "key", "to_avro", "new", "VERSION", "__x"])
def test_python_unsafe_field_names(tree: SchemaTree, name: str) -> None:
    """Keywords and the generated classes' own members cannot be field names."""
    tree.add_event(event("OrderPlaced", fld(name, "string")))
    assert codes(tree.lint(), tree.root) == {
        ("orders/OrderPlaced/v1.avsc", "$.fields[2].name", "RESERVED_NAME")
    }


def test_enum_symbol_that_python_forbids(tree: SchemaTree) -> None:
    """None is a valid Avro symbol but cannot be a Python enum member."""
    tree.add_event(event("OrderPlaced", fld("status", enum("Status", "OPEN", "None"))))
    assert codes(tree.lint(), tree.root) == {
        ("orders/OrderPlaced/v1.avsc", "$.fields[2].type.symbols[1]", "RESERVED_NAME")
    }


def test_generated_members_cover_the_runtime_protocols() -> None:
    """Every member the runtime expects of a generated class is reserved (except envelope)."""
    expected = {
        name
        for protocol in (AvroRecord, Event)
        for name in [*vars(protocol), *protocol.__annotations__]
        if not name.startswith("_")
    } - {"envelope"}
    assert expected <= GENERATED_MEMBERS
