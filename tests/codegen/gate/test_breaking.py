"""The compatibility gate against git: new versions checked, published history frozen."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from evp.cli import main
from evp.contract.breaking import Break, find_breaks
from evp.contract.catalog import load_catalog
from evp.contract.history import history_from_catalog
from evp_codegen.gate.baseline import BaselineUnavailable, history_from_git
from tests.codegen.builders import SchemaTree, event, fld

PLACED_V1 = event("OrderPaid", fld("amount", "int"))
PLACED_V2_OK = event(
    "OrderPaid", fld("amount", "int"), fld("note", ["null", "string"], default=None)
)
PLACED_V2_BREAKING = event("OrderPaid", fld("amount", "int"), fld("payer", "string"))


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


@pytest.fixture
def repo(tree: SchemaTree) -> SchemaTree:
    """A git repository whose first commit holds OrderPaid v1."""
    tree.add_event(PLACED_V1)
    tree.write_catalog()
    _git(tree.root, "init", "-q", "-b", "main")
    _git(
        tree.root,
        "-c",
        "user.email=t@e",
        "-c",
        "user.name=t",
        "commit",
        "-qam",
        "v1",
        "--allow-empty",
    )
    _git(tree.root, "add", ".")
    _git(tree.root, "-c", "user.email=t@e", "-c", "user.name=t", "commit", "-qm", "v1")
    return tree


def _breaks_against_head(tree: SchemaTree) -> list[Break]:
    tree.write_catalog()
    current = history_from_catalog(load_catalog(tree.root).require_valid())
    return find_breaks(current, history_from_git("HEAD", tree.root))


def test_compatible_new_version_passes(repo: SchemaTree) -> None:
    """Adding an optional field in v2 is no break."""
    repo.add_event(PLACED_V2_OK, version=2)
    assert _breaks_against_head(repo) == []


def test_incompatible_new_version_names_subject_versions_level_and_path(repo: SchemaTree) -> None:
    """A required field without default in v2 breaks BACKWARD, and the finding says where."""
    repo.add_event(PLACED_V2_BREAKING, version=2)
    [found] = _breaks_against_head(repo)
    assert found.rule == "READER_FIELD_MISSING_DEFAULT_VALUE"
    assert (found.subject, found.version, found.against) == ("orders-shop.orders.OrderPaid", 2, 1)
    assert found.level == "BACKWARD"
    assert found.json_path == "/fields/3"
    assert found.file is not None
    assert found.file.name == "v2.avsc"


def test_rewritten_published_version_is_a_break(repo: SchemaTree) -> None:
    """Editing v1 after it was committed is reported as history rewritten."""
    repo.add_event(PLACED_V2_OK, version=1)
    [found] = _breaks_against_head(repo)
    assert (found.rule, found.version) == ("HISTORY_REWRITTEN", 1)


def test_removed_subject_is_a_break(repo: SchemaTree) -> None:
    """Deleting a subject's folder breaks its consumers."""
    for path in sorted((repo.root / "orders").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    repo.events.clear()
    [found] = _breaks_against_head(repo)
    assert (found.rule, found.subject) == ("SUBJECT_REMOVED", "orders-shop.orders.OrderPaid")


def test_transitive_level_checks_every_earlier_version(tree: SchemaTree) -> None:
    """Under FULL_TRANSITIVE, v3 is checked against v1 as well as v2."""
    tree.add_event(event("OrderPaid", fld("a", "int"), fld("b", "int", default=0)), version=1)
    tree.add_event(event("OrderPaid", fld("a", "int")), version=2)
    tree.add_event(event("OrderPaid", fld("a", "int"), fld("b", "string", default="")), version=3)
    tree.write_catalog()
    text = (tree.root / "catalog.toml").read_text(encoding="utf-8")
    (tree.root / "catalog.toml").write_text(
        text + 'compatibility = "FULL_TRANSITIVE"\n', encoding="utf-8"
    )
    current = history_from_catalog(load_catalog(tree.root).require_valid())
    breaks = find_breaks(current, None)
    assert {(b.version, b.against, b.rule) for b in breaks} >= {(3, 1, "TYPE_MISMATCH")}
    assert all(b.level == "FULL_TRANSITIVE" for b in breaks)


def test_unknown_revision_is_a_typed_error(repo: SchemaTree) -> None:
    """A ref git does not know is a clear error naming it."""
    with pytest.raises(BaselineUnavailable, match="no-such-ref"):
        history_from_git("no-such-ref", repo.root)


def test_revision_without_schemas_is_an_empty_baseline(repo: SchemaTree) -> None:
    """Before schemas/ existed, everything is new (checked against its own history)."""
    assert history_from_git("HEAD~1", repo.root) == {}


def test_cli_exits_1_with_github_annotations(
    repo: SchemaTree, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--format github`` prints one ::error annotation per break and exits 1."""
    repo.add_event(PLACED_V2_BREAKING, version=2)
    repo.write_catalog()
    monkeypatch.chdir(repo.root.parent)
    code = main(
        ["schemas", "check", "--schemas", "schemas", "--against-git", "HEAD", "--format", "github"]
    )
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 1
    assert out == [
        "::error file=schemas/orders/OrderPaid/v2.avsc,title=READER_FIELD_MISSING_DEFAULT_VALUE::"
        "orders-shop.orders.OrderPaid v2 vs v1 (BACKWARD): " + out[0].split("(BACKWARD): ", 1)[1]
    ]


def test_cli_json_lists_structured_breaks(
    repo: SchemaTree, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--format json`` gives subject, versions, level, rule and path for each break."""
    repo.add_event(PLACED_V2_BREAKING, version=2)
    repo.write_catalog()
    assert main(["schemas", "check", "--schemas", str(repo.root), "--format", "json"]) == 1
    [item] = json.loads(capsys.readouterr().out)
    assert item["subject"] == "orders-shop.orders.OrderPaid"
    assert (item["version"], item["against_version"], item["level"]) == (2, 1, "BACKWARD")
    assert (item["rule"], item["path"]) == ("READER_FIELD_MISSING_DEFAULT_VALUE", "/fields/3")


def test_repository_schemas_pass_their_own_history() -> None:
    """Every version in the repository's schemas/ is compatible with its predecessors."""
    root = Path(__file__).resolve().parents[3] / "schemas"
    assert find_breaks(history_from_catalog(load_catalog(root).require_valid()), None) == []
