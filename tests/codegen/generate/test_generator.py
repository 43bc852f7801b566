"""Codegen: deterministic, fresh-checked, atomically written, and correct for every Avro type."""

from __future__ import annotations

import datetime
import decimal
import importlib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from evp.avro import AvroCodec, InMemorySchemaLookup
from evp.cli import main
from evp.contract.catalog import load_catalog
from evp_codegen.errors import CodegenError, UnsupportedSchema
from evp_codegen.generate.generator import GeneratedLibrary, generate
from evp_codegen.generate.render import HEADER
from evp_codegen.generate.source import DirectorySource
from tests.codegen.builders import SchemaTree, enum, event, fld, record

REPO = Path(__file__).resolve().parents[3]
UUID = {"type": "string", "logicalType": "uuid"}
ITEM = record("Item", fld("name", "string"))
OTHER = record("Other", fld("x", "int"))
EVERYTHING = event(
    "EverythingRecorded",
    fld("flag", "boolean"),
    fld("small", "int"),
    fld("big", "long"),
    fld("ratio", "float"),
    fld("precise", "double"),
    fld("blob", "bytes"),
    fld("text", "string"),
    fld("ident", UUID),
    fld("amount", {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 3}),
    fld(
        "fixed_amount",
        {
            "type": "fixed",
            "name": "Cents",
            "size": 8,
            "logicalType": "decimal",
            "precision": 12,
            "scale": 2,
        },
    ),
    fld("day", {"type": "int", "logicalType": "date"}),
    fld("clock_ms", {"type": "int", "logicalType": "time-millis"}),
    fld("clock_us", {"type": "long", "logicalType": "time-micros"}),
    fld("at_ms", {"type": "long", "logicalType": "timestamp-millis"}),
    fld("at_us", {"type": "long", "logicalType": "timestamp-micros"}),
    fld("local_ms", {"type": "long", "logicalType": "local-timestamp-millis"}),
    fld("numbers", {"type": "array", "items": "int"}),
    fld("items", {"type": "array", "items": ITEM}),
    fld(
        "prices",
        {
            "type": "map",
            "values": {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 2},
        },
    ),
    fld("maybe_text", ["null", "string"], default=None),
    fld("maybe_item", ["null", "Item"], default=None),
    fld("either", ["null", "string", "long", "Item", OTHER]),
    fld("colour", enum("Colour", "RED", "GREEN", default="RED"), default="GREEN"),
    fld("digest", {"type": "fixed", "name": "Digest", "size": 4}),
    fld("class", "int", doc="A Python keyword as a field name."),
    fld("count", "int", default=7),
    fld("tags", {"type": "array", "items": "string"}, default=[]),
    fld(
        "fee",
        {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 2},
        default="\u0000d",
    ),
    fld("moment", {"type": "long", "logicalType": "timestamp-millis"}, default=1000),
)


@pytest.fixture
def everything_tree(tree: SchemaTree) -> SchemaTree:
    """A schema tree with one event using every Avro type."""
    tree.add_event(EVERYTHING)
    tree.write_catalog()
    return tree


def _generate(tree: SchemaTree, package: str) -> GeneratedLibrary:
    return generate(load_catalog(tree.root), DirectorySource(), package=package)


@pytest.fixture
def generated(everything_tree: SchemaTree, tmp_path: Path) -> Iterator[ModuleType]:
    """The everything event's library, written to a temporary package and imported."""
    package = f"gen_{uuid.uuid4().hex[:8]}"
    _generate(everything_tree, package).write(tmp_path / package)
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(f"{package}.orders")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith(package)]:
            del sys.modules[name]


def _everything(module: ModuleType, either: Any) -> Any:
    utc = datetime.UTC
    return module.EverythingRecorded(
        envelope=module.Envelope(
            event_id=uuid.uuid4(), timestamp=datetime.datetime(2026, 1, 2, tzinfo=utc)
        ),
        order_id="o-1",
        flag=True,
        small=-5,
        big=2**40,
        ratio=0.5,
        precise=1e-300,
        blob=b"\x00\xff",
        text="héllo",
        ident=uuid.uuid4(),
        amount=decimal.Decimal("-1234567.891"),
        fixed_amount=decimal.Decimal("42.00"),
        day=datetime.date(1969, 12, 31),
        clock_ms=datetime.time(23, 59, 59, 999000),
        clock_us=datetime.time(0, 0, 0, 1),
        at_ms=datetime.datetime(1960, 5, 6, 7, 8, 9, 123000, tzinfo=utc),
        at_us=datetime.datetime(2100, 1, 1, 0, 0, 0, 1, tzinfo=utc),
        local_ms=datetime.datetime(2026, 11, 24, 12, 0, 0, 5000),
        numbers=[1, 2, 3],
        items=[module.Item(name="a"), module.Item(name="b")],
        prices={"x": decimal.Decimal("9.99")},
        maybe_item=module.Item(name="m"),
        either=either,
        digest=b"abcd",
        class_=3,
    )


def test_output_is_byte_identical_on_rerun() -> None:
    """Generating twice from the same schemas gives the same bytes."""
    catalog = load_catalog(REPO / "schemas")
    first = generate(catalog, DirectorySource(), package="evp.events")
    second = generate(load_catalog(REPO / "schemas"), DirectorySource(), package="evp.events")
    assert first.files == second.files


def test_committed_library_is_fresh() -> None:
    """The committed event library is what schemas/ produces."""
    library = generate(load_catalog(REPO / "schemas"), DirectorySource(), package="evp.events")
    assert library.stale_files(REPO / "shared" / "evp" / "events") == []


def test_generated_code_is_as_ruff_formats_it(tmp_path: Path) -> None:
    """ruff format leaves the generated library alone, so the two checks never disagree."""
    library = generate(load_catalog(REPO / "schemas"), DirectorySource(), package="evp.events")
    library.write(tmp_path / "events")
    checked = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--diff", str(tmp_path / "events")],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_module_carries_the_do_not_edit_header(everything_tree: SchemaTree) -> None:
    """Each generated Python file starts with the do-not-edit header."""
    files = _generate(everything_tree, "pkg").files
    python = [name for name in files if name.endswith(".py")]
    assert python
    assert all(files[name].startswith(HEADER) for name in python)
    assert "DO NOT EDIT" in HEADER
    assert "make codegen" in files["README.md"]


def test_check_names_each_stale_file(
    everything_tree: SchemaTree, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``evp codegen --check`` exits 1 and names the edited and the extra file."""
    out = tmp_path / "out"
    args = [
        "codegen",
        "--schemas",
        str(everything_tree.root),
        "--out",
        str(out),
        "--package",
        "pkg",
    ]
    assert main(args) == 0
    (out / "orders.py").write_text("# edited by hand\n", encoding="utf-8")
    (out / "leftover.py").write_text("", encoding="utf-8")
    assert main([*args, "--check"]) == 1
    errors = capsys.readouterr().err
    assert "orders.py: stale" in errors
    assert "leftover.py: stale" in errors


def test_check_passes_when_fresh(everything_tree: SchemaTree, tmp_path: Path) -> None:
    """``evp codegen --check`` exits 0 right after ``evp codegen``."""
    args = [
        "codegen",
        "--schemas",
        str(everything_tree.root),
        "--out",
        str(tmp_path / "o"),
        "--package",
        "p",
    ]
    assert main(args) == 0
    assert main([*args, "--check"]) == 0


def test_failed_write_leaves_previous_output_intact(tmp_path: Path) -> None:
    """A write that fails midway leaves the old library exactly as it was."""
    out = tmp_path / "events"
    GeneratedLibrary("p", {"a.py": "old = 1\n"}).write(out)
    broken = GeneratedLibrary("p", {"b.py": "new = 1\n", "b.py/c.py": "impossible\n"})
    with pytest.raises(CodegenError):
        broken.write(out)
    assert sorted(p.name for p in out.iterdir()) == ["a.py"]
    assert (out / "a.py").read_text(encoding="utf-8") == "old = 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["events"]


def test_every_type_round_trips_through_generated_code(generated: ModuleType) -> None:
    """An event using every Avro type survives encode then decode unchanged."""
    lookup = InMemorySchemaLookup()
    cls = generated.EverythingRecorded
    lookup.register(cls.SUBJECT, cls.AVRO_SCHEMA)
    codec = AvroCodec(lookup)
    for either in (None, "text", 12, generated.Item(name="i"), generated.Other(x=1)):
        original = _everything(generated, either)
        assert codec.decode(codec.encode(original), cls) == original


def test_defaults_become_python_defaults(generated: ModuleType) -> None:
    """Avro field defaults, logical and enum ones included, are the dataclass defaults."""
    event = _everything(generated, None)
    assert event.count == 7
    assert event.tags == []
    assert event.fee == decimal.Decimal("1.00")
    assert event.moment == datetime.datetime(1970, 1, 1, 0, 0, 1, tzinfo=datetime.UTC)
    assert event.colour is generated.Colour.GREEN
    assert event.maybe_text is None


def test_exact_type_hints_are_generated(everything_tree: SchemaTree) -> None:
    """Logical types, unions and containers get precise hints."""
    source = _generate(everything_tree, "pkg").files["orders.py"]
    for line in (
        "    ident: uuid.UUID",
        "    amount: decimal.Decimal",
        "    at_ms: datetime.datetime",
        "    day: datetime.date",
        "    prices: dict[str, decimal.Decimal]",
        "    maybe_item: Item | None = None",
        "    either: str | int | Item | Other | None",
        "    colour: Colour = Colour.GREEN",
        "    class_: int",
    ):
        assert line in source


def test_ambiguous_union_is_refused_with_its_location(tree: SchemaTree) -> None:
    """A union whose branches decode to the same Python type is a typed error."""
    tree.add_event(event("OrderPaid", fld("either", ["int", "long"])))
    tree.write_catalog()
    with pytest.raises(UnsupportedSchema) as raised:
        _generate(tree, "pkg")
    assert raised.value.fields["schema"] == "orders-shop.orders.OrderPaid"
    assert raised.value.fields["field_path"] == "$.fields[2]"
    assert "indistinguishable" in str(raised.value)


def test_conflicting_definitions_of_one_name_are_refused(tree: SchemaTree) -> None:
    """The same full name defined differently in two subjects is a typed error."""
    tree.add_event(event("OrderPaid", fld("line", record("Line", fld("a", "int")))))
    tree.add_event(event("OrderShipped", fld("line", record("Line", fld("b", "int")))))
    tree.write_catalog()
    with pytest.raises(UnsupportedSchema, match="defined differently"):
        _generate(tree, "pkg")
