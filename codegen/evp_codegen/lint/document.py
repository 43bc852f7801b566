"""One ``.avsc`` file walked once into the parts every rule looks at, each with its JSON path.

Rules never walk schema JSON themselves: they read the named types, fields, types and name
references listed here, so every rule agrees on paths and on how namespaces are inherited.
A shape the walk cannot follow (a field without a type, an enum without symbols) is kept as a
``malformed`` note and reported once as PARSE_ERROR.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evp.contract.catalog import Catalog, Subject, SubjectVersion
from evp.contract.schema_json import NAMED_KINDS, PRIMITIVES, qualify

__all__ = [
    "Corpus",
    "FieldNode",
    "NamedNode",
    "Reference",
    "SchemaDocument",
    "TypeNode",
    "read_corpus",
    "read_document",
]


@dataclass(frozen=True)
class TypeNode:
    """A type as written (a name, a union list or an object) and the namespace it is read in."""

    json_path: str
    schema: Any
    namespace: str | None


@dataclass(frozen=True)
class NamedNode:
    """A record, enum or fixed defined in a file; ``namespace`` is the one it was written in."""

    document: SchemaDocument
    json_path: str
    full_name: str
    kind: str
    schema: dict[str, Any]
    namespace: str | None

    @property
    def simple_name(self) -> str:
        """The name without its namespace."""
        return self.full_name.rpartition(".")[2]


@dataclass(frozen=True)
class FieldNode:
    """A field of a record; ``namespace`` is the one its type is read in."""

    json_path: str
    schema: dict[str, Any]
    record: str
    namespace: str | None

    @property
    def name(self) -> str | None:
        """The field's name, when it has a string one."""
        name = self.schema.get("name")
        return name if isinstance(name, str) else None


@dataclass(frozen=True)
class Reference:
    """A use of a named type by name; ``defined_before`` says whether this file defined it."""

    json_path: str
    full_name: str
    defined_before: bool


@dataclass(eq=False)
class SchemaDocument:
    """One schema file: where it is, what it must be named, and everything found in it."""

    path: Path
    source: dict[str, Any]
    domain: str
    expected_name: str
    version: SubjectVersion | None = None
    subject: Subject | None = None
    named: list[NamedNode] = field(default_factory=list)
    fields: list[FieldNode] = field(default_factory=list)
    types: list[TypeNode] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    malformed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def is_event(self) -> bool:
        """Whether this is a version of a subject (as opposed to a shared type file)."""
        return self.version is not None

    @property
    def root(self) -> NamedNode | None:
        """The top-level named type, when the file's top level is one."""
        first = self.named[0] if self.named else None
        return first if first is not None and first.json_path == "$" else None

    def definitions(self) -> dict[str, NamedNode]:
        """Named types defined in this file by full name (the first definition wins)."""
        found: dict[str, NamedNode] = {}
        for node in self.named:
            found.setdefault(node.full_name, node)
        return found


@dataclass(frozen=True)
class Corpus:
    """Every schema file of a catalog, walked, plus the named types shared between them."""

    catalog: Catalog
    documents: tuple[SchemaDocument, ...]
    shared_names: Mapping[str, NamedNode]

    def lookup(self, document: SchemaDocument, full_name: str) -> NamedNode | None:
        """The definition ``full_name`` refers to when used in ``document``."""
        return document.definitions().get(full_name) or self.shared_names.get(full_name)

    def events(self) -> Iterator[SchemaDocument]:
        """The documents that are versions of a subject."""
        return (d for d in self.documents if d.is_event)


def read_corpus(catalog: Catalog) -> Corpus:
    """Walk every shared type file and every subject version of ``catalog``."""
    documents: list[SchemaDocument] = []
    for shared in sorted(catalog.shared_types.values(), key=lambda s: s.path):
        documents.append(
            read_document(shared.path, shared.schema, shared.path.parent.name, shared.path.stem)
        )
    for version in catalog.iter_versions():
        subject = catalog.subjects[version.subject]
        document = read_document(
            version.path, version.source, version.path.parent.parent.name, version.path.parent.name
        )
        document.version = version
        document.subject = subject
        documents.append(document)
    shared_names: dict[str, NamedNode] = {}
    for document in documents:
        if not document.is_event:
            for node in document.named:
                shared_names.setdefault(node.full_name, node)
    return Corpus(catalog, tuple(documents), shared_names)


def read_document(
    path: Path, source: dict[str, Any], domain: str, expected_name: str
) -> SchemaDocument:
    """Walk ``source`` (the JSON of the file at ``path``) into a :class:`SchemaDocument`."""
    document = SchemaDocument(path, source, domain, expected_name)
    _Walker(document).type(source, "$", None)
    return document


class _Walker:
    """Walks types in document order, which is the order Avro requires definitions in."""

    def __init__(self, document: SchemaDocument) -> None:
        self.document = document
        self.defined: set[str] = set()

    def malformed(self, json_path: str, message: str) -> None:
        self.document.malformed.append((json_path, message))

    def type(self, node: Any, path: str, namespace: str | None) -> None:
        self.document.types.append(TypeNode(path, node, namespace))
        if isinstance(node, str):
            if node not in PRIMITIVES:
                self.reference(node, path, namespace)
        elif isinstance(node, list):
            for index, branch in enumerate(node):
                self.type(branch, f"{path}[{index}]", namespace)
        elif isinstance(node, dict):
            self.type_object(node, path, namespace)
        else:
            self.malformed(path, "a type must be a name, a union (JSON array) or a JSON object")

    def reference(self, name: str, path: str, namespace: str | None) -> None:
        full_name = qualify(name, namespace)
        self.document.references.append(Reference(path, full_name, full_name in self.defined))

    def type_object(self, node: dict[str, Any], path: str, namespace: str | None) -> None:
        kind = node.get("type")
        if isinstance(kind, dict | list):
            # {"type": {...}} wraps a type; Avro reads it as the inner type.
            self.type(kind, f"{path}.type", namespace)
        elif not isinstance(kind, str):
            self.malformed(path, 'a type object needs a string "type"')
        elif kind in NAMED_KINDS:
            self.named(node, kind, path, namespace)
        elif kind == "array":
            self.child(node, "items", path, namespace)
        elif kind == "map":
            self.child(node, "values", path, namespace)
        elif kind not in PRIMITIVES:
            self.reference(kind, f"{path}.type", namespace)

    def child(self, node: dict[str, Any], key: str, path: str, namespace: str | None) -> None:
        if key not in node:
            self.malformed(path, f'a {node["type"]} needs "{key}"')
            return
        self.type(node[key], f"{path}.{key}", namespace)

    def named(self, node: dict[str, Any], kind: str, path: str, namespace: str | None) -> None:
        name = node.get("name")
        own_namespace = node.get("namespace", namespace)
        if not isinstance(name, str) or not name:
            self.malformed(path, f"a {kind} needs a non-empty string name")
            return
        if own_namespace is not None and not isinstance(own_namespace, str):
            self.malformed(f"{path}.namespace", "a namespace must be a string")
            own_namespace = namespace
        full_name = qualify(name, own_namespace)
        self.document.named.append(NamedNode(self.document, path, full_name, kind, node, namespace))
        # Defined before its fields are walked, so a record may refer to itself.
        self.defined.add(full_name)
        inner = full_name.rpartition(".")[0] or None
        if kind in ("record", "error"):
            self.record_fields(node, full_name, path, inner)
        elif kind == "enum":
            symbols = node.get("symbols")
            if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
                self.malformed(path, f"enum {full_name} needs a list of string symbols")
        elif not isinstance(node.get("size"), int) or isinstance(node.get("size"), bool):
            self.malformed(path, f"fixed {full_name} needs an integer size")
        elif node["size"] < 0:
            self.malformed(f"{path}.size", f"fixed {full_name} has a negative size")

    def record_fields(
        self, node: dict[str, Any], full_name: str, path: str, namespace: str | None
    ) -> None:
        fields = node.get("fields")
        if not isinstance(fields, list):
            self.malformed(path, f"record {full_name} needs a list of fields")
            return
        for index, entry in enumerate(fields):
            field_path = f"{path}.fields[{index}]"
            if not isinstance(entry, dict):
                self.malformed(field_path, "a field must be a JSON object")
                continue
            self.document.fields.append(FieldNode(field_path, entry, full_name, namespace))
            if not isinstance(entry.get("name"), str):
                self.malformed(field_path, f"a field of {full_name} needs a string name")
            if "type" not in entry:
                self.malformed(field_path, f"field {entry.get('name')!r} has no type")
                continue
            self.type(entry["type"], f"{field_path}.type", namespace)
