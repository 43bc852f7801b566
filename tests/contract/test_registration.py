"""Registration, ``check --registry`` and ``codegen --from-registry`` on a real registry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from evp.cli import main
from evp.contract.catalog import load_catalog
from evp.contract.registration import RegistrationRefused, plan_registration
from evp_codegen.generate.generator import generate
from evp_codegen.generate.registry_source import RegistrySource
from evp_codegen.generate.source import DirectorySource
from tests.codegen.builders import SchemaTree, event, fld

REPO_SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
SUBJECT = "orders-shop.orders.OrderPaid"


@pytest.fixture
def client(schema_registry: str) -> Iterator[SchemaRegistryClient]:
    """confluent-kafka's client for the test's registry, closed afterwards."""
    with SchemaRegistryClient({"url": schema_registry}) as opened:
        yield opened


def test_register_puts_every_version_and_level_in_order(
    schema_registry: str, client: SchemaRegistryClient
) -> None:
    """Every subject's versions are registered oldest first, with its level."""
    assert main(["schemas", "register", "--registry", schema_registry]) == 0
    catalog = load_catalog(REPO_SCHEMAS)
    assert sorted(client.get_subjects()) == sorted(catalog.subjects)
    placed = catalog.subject_for("shop.orders.OrderPlaced")
    assert client.get_versions(placed.name) == [1, 2]
    assert client.get_compatibility(placed.name) == "FULL_TRANSITIVE"


def test_second_registration_changes_nothing(
    schema_registry: str, client: SchemaRegistryClient
) -> None:
    """Registering twice is idempotent: the plan of the second run is empty."""
    assert main(["schemas", "register", "--registry", schema_registry]) == 0
    plan = plan_registration(load_catalog(REPO_SCHEMAS), client, schema_registry)
    assert plan.changes == 0


def test_incompatible_version_is_refused_and_nothing_written(
    schema_registry: str, tree: SchemaTree, client: SchemaRegistryClient
) -> None:
    """A v2 the registry would reject stops the run before any write, with its reason."""
    tree.add_event(event("OrderPaid", fld("amount", "int")), version=1)
    tree.add_event(event("OrderPaid", fld("amount", "int"), fld("payer", "string")), version=2)
    tree.write_catalog()
    client.register_schema(
        SUBJECT, Schema(load_catalog(tree.root).subjects[SUBJECT].versions[0].schema_text, "AVRO")
    )
    with pytest.raises(RegistrationRefused) as raised:
        plan_registration(load_catalog(tree.root), client, schema_registry)
    [problem] = raised.value.breaks
    assert (problem.rule, problem.version, problem.against) == (
        "READER_FIELD_MISSING_DEFAULT_VALUE",
        2,
        1,
    )
    assert client.get_versions(SUBJECT) == [1]


def test_registry_holding_a_different_v1_is_refused(
    schema_registry: str, tree: SchemaTree, client: SchemaRegistryClient
) -> None:
    """When the registry's v1 differs from the file, registration explains and stops."""
    tree.add_event(event("OrderPaid", fld("amount", "long")))
    tree.write_catalog()
    other = event("OrderPaid", fld("amount", "int"))
    client.register_schema(SUBJECT, Schema(_resolved_text(tree, other), "AVRO"))
    code = main(["schemas", "register", "--schemas", str(tree.root), "--registry", schema_registry])
    assert code == 1
    assert client.get_versions(SUBJECT) == [1]


def test_check_against_registry_finds_an_incompatible_new_version(
    schema_registry: str, tree: SchemaTree, capsys: pytest.CaptureFixture[str]
) -> None:
    """``check --registry`` compares new versions with what the registry holds."""
    tree.add_event(event("OrderPaid", fld("amount", "int")), version=1)
    tree.write_catalog()
    assert (
        main(["schemas", "register", "--schemas", str(tree.root), "--registry", schema_registry])
        == 0
    )
    tree.add_event(event("OrderPaid", fld("amount", "string")), version=2)
    tree.write_catalog()
    args = ["schemas", "check", "--schemas", str(tree.root), "--registry", schema_registry]
    assert main(args) == 1
    assert "TYPE_MISMATCH" in capsys.readouterr().out


def test_codegen_from_registry_is_byte_identical(schema_registry: str) -> None:
    """The library generated from the registry equals the one generated from files."""
    assert main(["schemas", "register", "--registry", schema_registry]) == 0
    catalog = load_catalog(REPO_SCHEMAS)
    from_files = generate(catalog, DirectorySource(), package="evp.events")
    with RegistrySource(schema_registry) as source:
        from_registry = generate(catalog, source, package="evp.events")
    assert from_registry.files == from_files.files


def test_unreachable_registry_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A registry that does not answer gives exit 2 and a message, not a stack trace."""
    assert main(["schemas", "check", "--registry", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evp: error: cannot reach the registry")
    assert "Traceback" not in err


def _resolved_text(tree: SchemaTree, schema: dict[str, object]) -> str:
    scratch = SchemaTree(tree.root.parent / "scratch")
    scratch.add_event(schema)
    scratch.write_catalog()
    return load_catalog(scratch.root).subjects[SUBJECT].latest.schema_text
