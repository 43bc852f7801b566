"""The linter as a whole: the real contract, ordering, and catalogs it cannot read."""

from __future__ import annotations

from pathlib import Path

import pytest

from evp_codegen.lint import RULES, SchemasUnreadable, lint_schemas
from evp_codegen.lint.linter import sort_findings
from evp_codegen.lint.rules import MISSING_DOC
from tests.codegen.builders import SchemaTree, codes, event, fld

REAL_SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"


def test_real_schemas_are_clean() -> None:
    """The repository's own schemas/ has no findings at all, not even warnings."""
    assert [f.format() for f in lint_schemas(REAL_SCHEMAS)] == []


def test_fresh_tree_is_clean(tree: SchemaTree) -> None:
    """The test helper's baseline tree lints clean, so each test's finding is its own."""
    tree.add_event(event("OrderPlaced", fld("note", "string")))
    assert tree.lint() == []


def test_rule_ids_are_unique() -> None:
    """No two rules share an id."""
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))


def test_findings_sort_by_file_then_numeric_path() -> None:
    """Index 2 sorts before index 10 within a file, and files sort before paths."""
    a, b = Path("/s/a.avsc"), Path("/s/b.avsc")
    findings = [
        MISSING_DOC.at(b, "$", "m"),
        MISSING_DOC.at(a, "$.fields[10]", "m"),
        MISSING_DOC.at(a, "$.fields[2]", "m"),
    ]
    ordered = sort_findings(findings)
    assert [(f.path.name, f.json_path) for f in ordered] == [
        ("a.avsc", "$.fields[2]"),
        ("a.avsc", "$.fields[10]"),
        ("b.avsc", "$"),
    ]


def test_catalog_findings_are_reported(tree: SchemaTree) -> None:
    """Problems found while loading the catalog (here a version gap) are part of the result."""
    tree.add_event(event("OrderPlaced"), version=2)
    assert codes(tree.lint(), tree.root) == {("orders/OrderPlaced/v2.avsc", "$", "VERSION_GAP")}


def test_missing_folder_is_unreadable(tmp_path: Path) -> None:
    """A schemas folder that does not exist raises instead of linting nothing."""
    with pytest.raises(SchemasUnreadable, match="no such folder"):
        lint_schemas(tmp_path / "nope")


def test_missing_catalog_is_unreadable(tmp_path: Path) -> None:
    """A folder without catalog.toml raises, naming the missing file."""
    with pytest.raises(SchemasUnreadable, match=r"no catalog\.toml"):
        lint_schemas(tmp_path)


def test_invalid_toml_is_unreadable(tmp_path: Path) -> None:
    """A catalog.toml that is not TOML raises instead of being linted."""
    (tmp_path / "catalog.toml").write_text("namespace = \n", encoding="utf-8")
    with pytest.raises(SchemasUnreadable, match="not valid TOML"):
        lint_schemas(tmp_path)


def test_every_rule_has_a_failing_fixture() -> None:
    """Each rule id is asserted somewhere in the rule tests, so no rule ships untested."""
    here = Path(__file__).parent
    tested = "".join(p.read_text(encoding="utf-8") for p in here.glob("test_*.py"))
    missing = [rule.id for rule in RULES if f'"{rule.id}"' not in tested]
    assert missing == []
