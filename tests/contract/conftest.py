"""Fixtures of the contract tests: schema trees built as the tooling tests build them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.codegen.builders import SchemaTree


@pytest.fixture
def tree(tmp_path: Path) -> SchemaTree:
    """A fresh schema tree that lints clean until a test adds to it."""
    return SchemaTree(tmp_path.resolve() / "schemas")
