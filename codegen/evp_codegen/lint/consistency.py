"""One full name, one definition: named types must agree across the whole catalog.

Code is generated from the latest version of each subject plus the shared types, one class
per full name. Two different definitions of ``shop.orders.OrderLine`` would give one class
that silently fits only one of them, so any difference is an error. Older versions are left
out on purpose: a type may evolve from one version of its subject to the next.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from evp.contract.findings import Finding
from evp.contract.schema_json import NAMED_KINDS, normalize
from evp_codegen.lint.document import Corpus, NamedNode
from evp_codegen.lint.rules import DUPLICATE_NAME

__all__ = ["check"]


def check(corpus: Corpus) -> Iterator[Finding]:
    """A DUPLICATE_NAME finding for each definition that differs from the first one seen."""
    latest = {subject.latest.path for subject in corpus.catalog.subjects.values()}
    definitions: dict[str, list[NamedNode]] = defaultdict(list)
    for document in corpus.documents:
        if document.is_event and document.path not in latest:
            continue
        for node in document.definitions().values():
            definitions[node.full_name].append(node)
    root = corpus.catalog.root
    for full_name, nodes in sorted(definitions.items()):
        first, *others = sorted(nodes, key=lambda n: (n.document.path, n.json_path))
        shape = _shape(first)
        for node in others:
            if _shape(node) != shape:
                yield DUPLICATE_NAME.at(
                    node.document.path,
                    f"{node.json_path}.name",
                    f"{full_name} differs from its definition in "
                    f"{first.document.path.relative_to(root)} at {first.json_path}",
                )


def _shape(node: NamedNode) -> str:
    """The definition in normalized form, with named types nested in it reduced to names,
    so a nested type written inline in one file and referenced in another still compares."""
    normalized = normalize(node.schema, node.namespace)
    return json.dumps(_shallow(normalized, top=True), sort_keys=True)


def _shallow(value: Any, *, top: bool) -> Any:
    if isinstance(value, dict):
        kind, name = value.get("type"), value.get("name")
        if not top and isinstance(kind, str) and kind in NAMED_KINDS and isinstance(name, str):
            return name
        return {key: _shallow(item, top=False) for key, item in value.items()}
    if isinstance(value, list):
        return [_shallow(item, top=False) for item in value]
    return value
