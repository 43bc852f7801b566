"""Runs every rule over a catalog and returns the findings in the order they are printed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from evp.contract.catalog import Catalog, load_catalog
from evp.contract.findings import Finding, Severity
from evp_codegen.errors import SchemaToolingError
from evp_codegen.lint import (
    avro_parser,
    consistency,
    conventions,
    defaults,
    logical_types,
    naming,
    structure,
)
from evp_codegen.lint.document import Corpus, read_corpus

__all__ = ["CHECKS", "SchemasUnreadable", "lint", "lint_schemas"]

CHECKS: tuple[Callable[[Corpus], Iterator[Finding]], ...] = (
    structure.check,
    logical_types.check,
    defaults.check,
    consistency.check,
    naming.check,
    conventions.check,
)
"""The rule families with exact JSON paths; fastavro runs after them as a backstop."""

# Catalog findings that leave nothing to lint: reported as one error, not as findings.
_FATAL = frozenset({"CATALOG_MISSING", "CATALOG_INVALID"})


class SchemasUnreadable(SchemaToolingError):
    """The schemas folder or its catalog cannot be read at all, so nothing can be linted."""

    def __init__(self, reason: str, *, path: Path) -> None:
        super().__init__(f"cannot lint {path}: {reason}", path=str(path))
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        return self.message


def lint_schemas(root: Path) -> list[Finding]:
    """Load the catalog in ``root`` and lint it; raises :class:`SchemasUnreadable`."""
    if not root.is_dir():
        raise SchemasUnreadable("no such folder", path=root)
    try:
        catalog = load_catalog(root)
    except OSError as error:
        where = Path(error.filename) if error.filename else root
        raise SchemasUnreadable(error.strerror or str(error), path=where) from error
    for finding in catalog.findings:
        if finding.rule in _FATAL:
            raise SchemasUnreadable(finding.message, path=finding.path)
    return lint(catalog)


def lint(catalog: Catalog) -> list[Finding]:
    """The catalog's own findings plus every rule's, deduplicated and sorted."""
    corpus = read_corpus(catalog)
    found = list(catalog.findings)
    for check in CHECKS:
        found.extend(check(corpus))
    with_errors = {f.path for f in found if f.severity is Severity.ERROR}
    found.extend(avro_parser.check(corpus, with_errors))
    return sort_findings(set(found))


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """By file, then JSON path with indexes in numeric order (``[2]`` before ``[10]``)."""
    return sorted(findings, key=lambda f: (str(f.path), _natural(f.json_path), f.rule, f.message))


def _natural(json_path: str) -> str:
    return re.sub(r"[0-9]+", lambda m: m.group().zfill(9), json_path)
