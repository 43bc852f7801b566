"""Dependencies point one way: the runtime never imports the tooling, leaves import no layer.

Every ``import`` is read from the source (the AST, so imports inside functions and under
``TYPE_CHECKING`` count too), not from what happens to be loaded at test time.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

RUNTIME = Path(__file__).resolve().parents[2] / "shared" / "evp"


def _imports_in(source: str, package: str) -> Iterator[tuple[int, str]]:
    """Every module ``source`` imports, relative imports resolved from ``package``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            yield node.lineno, ".".join(filter(None, (base, node.module)))


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    parts = path.relative_to(RUNTIME.parent).with_suffix("").parts
    package = ".".join(parts if path.name == "__init__.py" else parts[:-1])
    yield from _imports_in(path.read_text(encoding="utf-8"), package)


def _violations(folder: Path, allowed: tuple[str, ...], forbidden: str = "evp") -> list[str]:
    """Imports under ``folder`` of ``forbidden`` or its submodules, other than ``allowed``."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        for line, module in _imports(path):
            inside = module == forbidden or module.startswith(forbidden + ".")
            if inside and not any(module == a or module.startswith(a + ".") for a in allowed):
                found.append(f"{path.relative_to(RUNTIME.parent)}:{line}: imports {module}")
    return found


def test_the_runtime_never_imports_the_tooling() -> None:
    """No module under shared/evp imports evp_codegen; the tooling adds commands by entry point."""
    assert _violations(RUNTIME, (), forbidden="evp_codegen") == []


def test_the_schema_model_is_a_leaf() -> None:
    """evp.schema imports nothing of evp but evp.errors and itself."""
    assert _violations(RUNTIME / "schema", ("evp.errors", "evp.schema")) == []


def test_the_contract_depends_only_on_leaves() -> None:
    """evp.contract imports nothing of evp but the schema model, the errors and itself."""
    allowed = ("evp.errors", "evp.schema", "evp.contract")
    assert _violations(RUNTIME / "contract", allowed) == []


def test_the_leaf_modules_import_nothing_of_the_runtime() -> None:
    """causation, credentials and metrics are leaves every layer may use (causation knows
    only the Event protocol)."""
    allowed = ("evp.errors", "evp.avro.record")
    for leaf in ("causation.py", "credentials.py", "metrics.py"):
        found = [
            f"{leaf}:{line}: imports {module}"
            for line, module in _imports(RUNTIME / leaf)
            if module.startswith("evp.") and not module.startswith(allowed)
        ]
        assert found == []


def test_the_console_does_not_import_what_serves_it() -> None:
    """evp up serves the console, so the console knows nothing of evp.up, the CLI or the
    demo, and nothing of the shop but what the services declare (read by entry point)."""
    for forbidden in ("evp.up", "evp.cli", "evp.demo", "shop"):
        assert _violations(RUNTIME / "console", (), forbidden=forbidden) == []


def test_the_service_kit_does_not_import_the_console() -> None:
    """The console reads what the kit declares, never the reverse."""
    assert _violations(RUNTIME / "service", (), forbidden="evp.console") == []


def test_the_kafka_runtime_does_not_depend_on_the_event_store() -> None:
    """Dependencies point one way: the event store (its relay, its idempotent claims) builds
    on the messaging runtime, never the reverse."""
    assert _violations(RUNTIME / "messaging", (), forbidden="evp.eventstore") == []


@pytest.mark.parametrize("layer", ["avro", "eventstore", "messaging", "registry", "web"])
def test_lower_layers_never_import_the_service_kit(layer: str) -> None:
    """The kit builds on the runtime and the web layer; none of them imports it back."""
    assert _violations(RUNTIME / layer, (), forbidden="evp.service") == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from evp_codegen.lint import lint", "evp_codegen.lint"),
        ("import evp_codegen", "evp_codegen"),
        ("from . import errors", "evp.schema"),
        ("from .errors import EvpError", "evp.schema.errors"),
        ("from ..registry import errors", "evp.registry"),
    ],
)
def test_every_import_form_is_seen(source: str, expected: str) -> None:
    """Absolute and relative imports, even inside a function, resolve to the module named."""
    nested = f"def f() -> None:\n    {source}\n"
    assert [name for _, name in _imports_in(nested, "evp.schema")] == [expected]
