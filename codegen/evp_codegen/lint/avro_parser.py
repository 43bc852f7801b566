"""The last word: every schema, resolved to stand alone, must parse with fastavro.

The other rules find problems with exact JSON paths; fastavro stops at its first problem and
says nothing of where. So its verdict is reported only for files where nothing else was found,
(including the shared types they inline) as a backstop for anything the rules do not cover.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import fastavro
from fastavro.schema import UnknownType

from evp.contract.catalog import resolve_shared_types
from evp.contract.findings import Finding
from evp_codegen.lint.document import Corpus, SchemaDocument
from evp_codegen.lint.rules import PARSE_ERROR, UNKNOWN_TYPE

__all__ = ["check", "parse_problem"]


def check(corpus: Corpus, reported: Collection[Path]) -> Iterator[Finding]:
    """fastavro's objections to files that neither they nor what they inline have findings on."""
    for document in corpus.documents:
        if reported and not _inlined_files(corpus, document).isdisjoint(reported):
            continue
        if document.version is not None:
            resolved = document.version.resolved
        else:
            resolved = resolve_shared_types(document.source, corpus.catalog.shared_types)
        problem = parse_problem(resolved)
        if problem is not None:
            rule = UNKNOWN_TYPE if isinstance(problem, UnknownType) else PARSE_ERROR
            yield rule.at(document.path, "$", f"fastavro rejects the schema: {problem}")


def parse_problem(schema: dict[str, Any]) -> Exception | None:
    """Why fastavro cannot parse ``schema``, or None when it can."""
    try:
        fastavro.parse_schema(schema)
    # fastavro reports some malformed input as KeyError or TypeError rather than its own
    # SchemaParseException; whatever it raises, the schema is unusable.
    except Exception as error:
        return error
    return None


def _inlined_files(corpus: Corpus, document: SchemaDocument) -> set[Path]:
    """``document``'s own file and the files of every shared type it inlines, transitively."""
    files = {document.path}
    pending = [document]
    while pending:
        current = pending.pop()
        for reference in current.references:
            node = corpus.shared_names.get(reference.full_name)
            if node is not None and node.document.path not in files:
                files.add(node.document.path)
                pending.append(node.document)
    return files
