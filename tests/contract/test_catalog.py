"""The catalog: reading schemas/, inlining shared types, and collecting structural findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evp.contract.catalog import load_catalog, subject_name
from evp.contract.errors import CatalogInvalid
from tests.codegen.builders import SchemaTree, event, fld

REPO_SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def test_real_catalog_has_every_event_of_the_shop() -> None:
    """The repository's schemas define every event the brief asks for, in their topics."""
    catalog = load_catalog(REPO_SCHEMAS).require_valid()
    names = {s.full_name.rpartition(".")[2] for s in catalog.subjects.values()}
    assert {
        "UserRegistered", "UserLoggedIn", "EmailChanged", "ProfileUpdated",
        "OrderPlaced", "OrderConfirmed", "OrderCancelled",
        "PaymentProcessed", "PaymentFailed", "PaymentRefunded",
        "StockAdded", "StockReserved", "StockReservationFailed", "StockReleased",
        "NotificationSent", "NotificationFailed",
    } <= names  # fmt: skip


def test_real_catalog_keeps_later_versions_oldest_first() -> None:
    """At least three subjects have real later versions, listed oldest first."""
    catalog = load_catalog(REPO_SCHEMAS)
    evolved = [s for s in catalog.subjects.values() if len(s.versions) > 1]
    assert len(evolved) >= 3
    for subject in evolved:
        assert [v.version for v in subject.versions] == list(range(1, len(subject.versions) + 1))


def test_subject_names_follow_the_topic_record_strategy() -> None:
    """A subject is named ``<topic>-<record full name>``."""
    catalog = load_catalog(REPO_SCHEMAS)
    placed = catalog.subject_for("shop.orders.OrderPlaced")
    assert placed.name == subject_name("orders", "shop.orders.OrderPlaced")
    assert placed.name == "orders-shop.orders.OrderPlaced"


def test_shared_type_is_inlined_once_at_first_use(tree: SchemaTree) -> None:
    """The first reference to a shared type becomes its definition; later ones stay names."""
    tree.add_event(
        event("OrderPaid", fld("paid", "shop.common.Currency"), fld("due", "shop.common.Currency"))
    )
    tree.write_catalog()
    version = load_catalog(tree.root).require_valid().subject_for("shop.orders.OrderPaid").latest
    resolved = json.loads(version.schema_text)
    types = [f["type"] for f in resolved["fields"]]
    assert types[0]["name"] == "shop.common.Envelope"
    assert types[2]["type"] == "enum"
    assert types[3] == "shop.common.Currency"


def test_version_gap_is_a_finding(tree: SchemaTree) -> None:
    """A history with v1 and v3 but no v2 is reported."""
    tree.add_event(event("OrderPaid"), version=1)
    tree.add_event(event("OrderPaid"), version=3)
    tree.write_catalog()
    rules = {f.rule for f in load_catalog(tree.root).findings}
    assert "VERSION_GAP" in rules


def test_event_without_catalog_entry_is_a_finding(tree: SchemaTree) -> None:
    """Schemas with no ``[events]`` entry in catalog.toml are reported."""
    tree.write("orders/OrderPaid/v1.avsc", event("OrderPaid"))
    tree.write_catalog()
    rules = {f.rule for f in load_catalog(tree.root).findings}
    assert "CATALOG_EVENT_MISSING" in rules


def test_missing_key_field_is_a_finding(tree: SchemaTree) -> None:
    """The catalog's key must name a field of the event."""
    tree.add_event(event("OrderPaid"))
    tree.events["shop.orders.OrderPaid"] = "no_such_field"
    tree.write_catalog()
    findings = load_catalog(tree.root).findings
    assert [f.rule for f in findings] == ["CATALOG_KEY_FIELD_MISSING"]
    assert "no_such_field" in findings[0].message


def test_require_valid_lists_every_error(tree: SchemaTree) -> None:
    """An invalid catalog raises one typed error naming each finding."""
    tree.add_event(event("OrderPaid"), version=2)
    tree.write("orders/OrderShipped/v1.avsc", {"not": "closed"})
    tree.write_catalog()
    with pytest.raises(CatalogInvalid) as raised:
        load_catalog(tree.root).require_valid()
    text = str(raised.value)
    assert "VERSION_GAP" in text
    assert "CATALOG_EVENT_MISSING" in text
    assert len(raised.value.findings) >= 2


def test_missing_catalog_file_is_a_finding(tmp_path: Path) -> None:
    """A folder without catalog.toml is reported, not a crash."""
    findings = load_catalog(tmp_path).findings
    assert [f.rule for f in findings] == ["CATALOG_MISSING"]


def test_invalid_json_names_line_and_column(tree: SchemaTree) -> None:
    """A schema file that is not JSON is reported with its position."""
    path = tree.root / "orders" / "OrderPaid" / "v1.avsc"
    path.parent.mkdir(parents=True)
    path.write_text('{"type": "record",\n "name": }', encoding="utf-8")
    tree.events["shop.orders.OrderPaid"] = "order_id"
    tree.write_catalog()
    parse_errors = [f for f in load_catalog(tree.root).findings if f.rule == "PARSE_ERROR"]
    assert len(parse_errors) == 1
    assert "line 2" in parse_errors[0].message


def test_dot_folders_are_not_part_of_the_contract(tree: SchemaTree) -> None:
    """Folders such as .git or editor state below schemas/ are ignored."""
    tree.add_event(event("OrderPaid"))
    tree.write_catalog()
    (tree.root / ".git" / "objects").mkdir(parents=True)
    (tree.root / "orders" / ".swap").mkdir()
    assert load_catalog(tree.root).findings == []
