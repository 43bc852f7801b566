"""The generator's model: named types and type references, built from normalized schemas.

Rendering works only on this model, never on raw JSON, so the same schemas give the same
model (and byte-identical code) whether they were read from ``schemas/`` or from a registry.
"""

from __future__ import annotations

import json
import keyword
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from evp.contract.schema_json import PRIMITIVES, normalize
from evp_codegen.errors import UnsupportedSchema

__all__ = [
    "ArrayOf",
    "EnumDef",
    "EventSpec",
    "FieldDef",
    "FixedDef",
    "Library",
    "Logical",
    "MapOf",
    "NamedDef",
    "NamedRef",
    "Primitive",
    "RecordDef",
    "TypeRef",
    "UnionOf",
    "build_library",
]


@dataclass(frozen=True)
class Primitive:
    """An Avro primitive: null, boolean, int, long, float, double, bytes or string."""

    name: str


@dataclass(frozen=True)
class Logical:
    """A logical type on a base type (``fixed_size`` set for decimals on fixed)."""

    kind: str
    base: str
    precision: int = 0
    scale: int = 0
    fixed_name: str | None = None
    fixed_size: int = 0


@dataclass(frozen=True)
class ArrayOf:
    """An Avro array."""

    items: TypeRef


@dataclass(frozen=True)
class MapOf:
    """An Avro map (keys are strings)."""

    values: TypeRef


@dataclass(frozen=True)
class UnionOf:
    """An Avro union, branches in schema order."""

    branches: tuple[TypeRef, ...]


@dataclass(frozen=True)
class NamedRef:
    """A reference to a record, enum or fixed by full name."""

    full_name: str


TypeRef = Primitive | Logical | ArrayOf | MapOf | UnionOf | NamedRef

_NO_DEFAULT = object()


@dataclass(frozen=True)
class FieldDef:
    """A record field: its Avro name, its Python name, type, doc and default."""

    name: str
    py_name: str
    type: TypeRef
    doc: str
    default: Any = _NO_DEFAULT

    @property
    def has_default(self) -> bool:
        """Whether the schema gives the field a default."""
        return self.default is not _NO_DEFAULT


@dataclass(frozen=True)
class RecordDef:
    """A record type."""

    full_name: str
    doc: str
    fields: tuple[FieldDef, ...]


@dataclass(frozen=True)
class EnumDef:
    """An enum type; ``default`` is the symbol readers fall back to for unknown symbols."""

    full_name: str
    doc: str
    symbols: tuple[str, ...]
    default: str | None


@dataclass(frozen=True)
class FixedDef:
    """A fixed-size bytes type."""

    full_name: str
    doc: str
    size: int


NamedDef = RecordDef | EnumDef | FixedDef


@dataclass(frozen=True)
class EventSpec:
    """An event to generate: the latest version of one subject, with its routing."""

    subject: str
    full_name: str
    topic: str
    key: str
    version: int
    schema: dict[str, Any]


@dataclass
class Library:
    """Every named type reachable from the events, and the events themselves."""

    namespace_root: str
    envelope: str | None
    types: dict[str, NamedDef] = field(default_factory=dict)
    events: dict[str, EventSpec] = field(default_factory=dict)
    schema_texts: dict[str, str] = field(default_factory=dict)

    def module_of(self, full_name: str) -> str:
        """The Python module (below the output package) a named type is generated into."""
        namespace = full_name.rpartition(".")[0]
        prefix = f"{self.namespace_root}."
        if namespace.startswith(prefix):
            namespace = namespace[len(prefix) :]
        elif namespace == self.namespace_root:
            namespace = ""
        return namespace.replace(".", "_") or "root"

    def modules(self) -> dict[str, list[NamedDef]]:
        """Named types grouped by module, each group sorted by name."""
        grouped: dict[str, list[NamedDef]] = {}
        for full_name in sorted(self.types):
            grouped.setdefault(self.module_of(full_name), []).append(self.types[full_name])
        return grouped


def build_library(
    events: Iterable[EventSpec], *, namespace_root: str, envelope: str | None
) -> Library:
    """The model of ``events`` and every named type they use."""
    library = Library(namespace_root=namespace_root, envelope=envelope)
    signatures: dict[str, tuple[str, str]] = {}
    for event in sorted(events, key=lambda e: e.full_name):
        schema = normalize(event.schema)
        builder = _Builder(library, signatures, event.subject)
        ref = builder.type_ref(schema, "$")
        if not isinstance(ref, NamedRef) or not isinstance(library.types[ref.full_name], RecordDef):
            raise UnsupportedSchema(
                "an event schema must be a record", schema=event.subject, field_path="$"
            )
        library.events[event.full_name] = event
        library.schema_texts[event.full_name] = json.dumps(
            schema, separators=(",", ":"), ensure_ascii=False
        )
    return library


class _Builder:
    """Walks one normalized schema, adding its named types to the library."""

    def __init__(
        self, library: Library, signatures: dict[str, tuple[str, str]], subject: str
    ) -> None:
        self.library = library
        self.signatures = signatures
        self.subject = subject

    def fail(self, message: str, path: str) -> UnsupportedSchema:
        return UnsupportedSchema(message, schema=self.subject, field_path=path)

    def type_ref(self, schema: Any, path: str) -> TypeRef:
        if isinstance(schema, str):
            if schema in PRIMITIVES:
                return Primitive(schema)
            if schema not in self.library.types:
                raise self.fail(f"unknown type {schema!r}", path)
            return NamedRef(schema)
        if isinstance(schema, list):
            branches = tuple(self.type_ref(b, f"{path}[{i}]") for i, b in enumerate(schema))
            return UnionOf(branches)
        if not isinstance(schema, dict):
            raise self.fail(f"not a schema: {schema!r}", path)
        kind = schema.get("type")
        logical = schema.get("logicalType")
        if isinstance(logical, str) and (ref := self.logical(schema, kind, logical, path)):
            return ref
        if kind in ("record", "error", "enum", "fixed"):
            return self.named(schema, kind, path)
        if kind == "array":
            return ArrayOf(self.type_ref(schema.get("items"), f"{path}.items"))
        if kind == "map":
            return MapOf(self.type_ref(schema.get("values"), f"{path}.values"))
        return self.type_ref(kind, f"{path}.type")

    def logical(self, schema: dict[str, Any], kind: Any, logical: str, path: str) -> TypeRef | None:
        base = kind if isinstance(kind, str) else None
        if logical == "decimal" and base in ("bytes", "fixed"):
            precision, scale = schema.get("precision"), schema.get("scale", 0)
            if not isinstance(precision, int) or not isinstance(scale, int):
                raise self.fail("decimal precision and scale must be integers", path)
            if base == "fixed":
                self.named({k: v for k, v in schema.items() if k != "logicalType"}, "fixed", path)
                return Logical("decimal", "fixed", precision, scale, schema["name"], schema["size"])
            return Logical("decimal", "bytes", precision, scale)
        expected = _LOGICAL_BASES.get(logical)
        if expected is not None and base == expected:
            return Logical(logical, base)
        return None  # Avro: an unknown or misplaced logical type is read as its base type

    def named(self, schema: dict[str, Any], kind: str, path: str) -> NamedRef:
        full_name = schema.get("name")
        if not isinstance(full_name, str):
            raise self.fail(f"{kind} without a name", path)
        doc = str(schema.get("doc", ""))
        definition: NamedDef
        if kind in ("record", "error"):
            self._claim(full_name, schema, path)
            # Register before the fields so that recursive references resolve.
            self.library.types.setdefault(full_name, RecordDef(full_name, doc, ()))
            fields = tuple(
                self.field(f, f"{path}.fields[{i}]") for i, f in enumerate(schema.get("fields", []))
            )
            definition = RecordDef(full_name, doc, fields)
        elif kind == "enum":
            self._claim(full_name, schema, path)
            default = schema.get("default")
            definition = EnumDef(full_name, doc, tuple(schema.get("symbols", ())), default)
        else:
            self._claim(full_name, schema, path)
            definition = FixedDef(full_name, doc, int(schema.get("size", 0)))
        self.library.types[full_name] = definition
        return NamedRef(full_name)

    def field(self, spec: Any, path: str) -> FieldDef:
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise self.fail("a field needs a name", path)
        name: str = spec["name"]
        ref = self.type_ref(spec.get("type"), f"{path}.type")
        default = spec.get("default", _NO_DEFAULT)
        return FieldDef(name, python_name(name), ref, str(spec.get("doc", "")), default)

    def _claim(self, full_name: str, schema: dict[str, Any], path: str) -> None:
        """Ensure every definition of ``full_name`` across subjects is the same."""
        signature = json.dumps(_shallow(schema), sort_keys=True)
        seen = self.signatures.get(full_name)
        if seen is None:
            self.signatures[full_name] = (signature, self.subject)
        elif seen[0] != signature:
            raise self.fail(
                f"{full_name} is defined differently here and in subject {seen[1]}", path
            )


_LOGICAL_BASES = {
    "uuid": "string",
    "date": "int",
    "time-millis": "int",
    "time-micros": "long",
    "timestamp-millis": "long",
    "timestamp-micros": "long",
    "local-timestamp-millis": "long",
    "local-timestamp-micros": "long",
}

_RESERVED = frozenset({"to_avro", "from_avro", "key", "new"})


def python_name(avro_name: str) -> str:
    """A Python identifier for an Avro field name (keywords and generated members get ``_``)."""
    if keyword.iskeyword(avro_name) or avro_name in _RESERVED or avro_name.isupper():
        return f"{avro_name}_"
    return avro_name


def _shallow(schema: Any) -> Any:
    """A definition with nested named definitions replaced by their names."""
    if isinstance(schema, list):
        return [_shallow_ref(b) for b in schema]
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    if isinstance(out.get("fields"), list):
        out["fields"] = [{**f, "type": _shallow_ref(f.get("type"))} for f in out["fields"]]
    for key in ("items", "values"):
        if key in out:
            out[key] = _shallow_ref(out[key])
    return out


def _shallow_ref(schema: Any) -> Any:
    if isinstance(schema, dict) and schema.get("type") in ("record", "error", "enum", "fixed"):
        return schema.get("name")
    return _shallow(schema)
