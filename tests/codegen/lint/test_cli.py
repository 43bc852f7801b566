"""``evp schemas lint``: text and JSON output, exit codes, and one-line fatal errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evp.cli.main import main
from tests.codegen.builders import SchemaTree, event, fld


@pytest.fixture
def here(tree: SchemaTree, monkeypatch: pytest.MonkeyPatch) -> SchemaTree:
    """The tree, with the current directory set to its parent so paths print relative."""
    monkeypatch.chdir(tree.root.parent)
    return tree


def test_clean_tree_exits_zero(here: SchemaTree, capsys: pytest.CaptureFixture[str]) -> None:
    """No findings: exit 0, nothing on stdout, a summary on stderr."""
    here.add_event(event("OrderPlaced"))
    here.write_catalog()
    assert main(["schemas", "lint"]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "no problems found" in err


def test_errors_print_text_lines_and_exit_one(
    here: SchemaTree, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each finding prints as `file: json-path: RULE_ID: message`, paths relative to cwd."""
    here.add_event(event("OrderPlaced", fld("total", "double")))
    here.write_catalog()
    assert main(["schemas", "lint"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "schemas/orders/OrderPlaced/v1.avsc: $.fields[2].type: MONEY_AS_FLOAT: field 'total' "
        "of shop.orders.OrderPlaced holds money as double; use "
        '{"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}'
    ]
    assert "1 error, 0 warnings in 1 file" in err


def test_warnings_alone_exit_zero(here: SchemaTree, capsys: pytest.CaptureFixture[str]) -> None:
    """Style warnings are printed but do not fail the command."""
    here.add_event(event("OrderPlaced", fld("giftWrap", "boolean")))
    here.write_catalog()
    assert main(["schemas", "lint"]) == 0
    assert "FIELD_NAME_CASE" in capsys.readouterr().out


def test_json_format(here: SchemaTree, capsys: pytest.CaptureFixture[str]) -> None:
    """--format json prints an array of {file, path, rule, severity, message}."""
    here.add_event(event("OrderPlaced", fld("giftWrap", "boolean")))
    here.write_catalog()
    assert main(["schemas", "lint", "--format", "json"]) == 0
    [finding] = json.loads(capsys.readouterr().out)
    assert finding == {
        "file": "schemas/orders/OrderPlaced/v1.avsc",
        "path": "$.fields[2].name",
        "rule": "FIELD_NAME_CASE",
        "severity": "warning",
        "message": "field 'giftWrap' of shop.orders.OrderPlaced is not snake_case",
    }


def test_schemas_option_points_elsewhere(
    tree: SchemaTree, capsys: pytest.CaptureFixture[str]
) -> None:
    """--schemas lints another folder, printing absolute paths when it is not below cwd."""
    tree.add_event(event("PlaceOrder"))
    tree.write_catalog()
    assert main(["schemas", "lint", "--schemas", str(tree.root)]) == 1
    assert f"{tree.root}/orders/PlaceOrder/v1.avsc: $.name:" in capsys.readouterr().out


def test_missing_folder_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing schemas folder is one error line on stderr and exit 2, no traceback."""
    assert main(["schemas", "lint", "--schemas", str(tmp_path / "nope")]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"evp: error: cannot lint {tmp_path / 'nope'}: no such folder\n"


def test_unreadable_catalog_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A catalog.toml that is not TOML is one error line and exit 2."""
    (tmp_path / "catalog.toml").write_text("[[[\n", encoding="utf-8")
    assert main(["schemas", "lint", "--schemas", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evp: error: cannot lint ")
    assert err.count("\n") == 1


def test_schemas_requires_a_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    """`evp schemas` alone is a usage error, leaving room for check and register."""
    with pytest.raises(SystemExit) as exit_info:
        main(["schemas"])
    assert exit_info.value.code == 2
    assert "SUBCOMMAND" in capsys.readouterr().err
