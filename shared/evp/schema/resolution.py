"""Why a reader schema cannot read a writer schema, one :class:`Problem` per cause.

Avro's ``ReaderWriterCompatibilityChecker`` gives the verdict for every pair visited here,
so this module never disagrees with it; what it adds is the walk that pins each problem
to its JSON path and to the reader and writer fragments found there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

__all__ = ["IncompatibilityType", "Problem", "find_problems"]

_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})

# Writer type -> reader types that can read it (Avro's promotion rules).
_PROMOTIONS = {
    ("long", "int"),
    ("float", "int"),
    ("float", "long"),
    ("double", "int"),
    ("double", "long"),
    ("double", "float"),
    ("bytes", "string"),
    ("string", "bytes"),
}


class IncompatibilityType(StrEnum):
    """Kinds of problem, spelled as Confluent's verbose answers spell them."""

    NAME_MISMATCH = "NAME_MISMATCH"
    FIXED_SIZE_MISMATCH = "FIXED_SIZE_MISMATCH"
    MISSING_ENUM_SYMBOLS = "MISSING_ENUM_SYMBOLS"
    READER_FIELD_MISSING_DEFAULT_VALUE = "READER_FIELD_MISSING_DEFAULT_VALUE"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    MISSING_UNION_BRANCH = "MISSING_UNION_BRANCH"


_DESCRIPTIONS = {
    IncompatibilityType.FIXED_SIZE_MISMATCH: (
        "The size of FIXED type field at path '{path}' in the {reader} schema does not match "
        "with the {writer} schema"
    ),
    IncompatibilityType.TYPE_MISMATCH: (
        "The type (path '{path}') of a field in the {reader} schema does not match with the "
        "{writer} schema"
    ),
    IncompatibilityType.NAME_MISMATCH: "The name of the schema has changed (path '{path}')",
    IncompatibilityType.MISSING_ENUM_SYMBOLS: (
        "The {reader} schema is missing enum symbols '{info}' at path '{path}' in the "
        "{writer} schema"
    ),
    IncompatibilityType.MISSING_UNION_BRANCH: (
        "The {reader} schema is missing a type inside a union field at path '{path}' in the "
        "{writer} schema"
    ),
    IncompatibilityType.READER_FIELD_MISSING_DEFAULT_VALUE: (
        "The field '{info}' at path '{path}' in the {reader} schema has no default value and "
        "is missing in the {writer} schema"
    ),
}


@dataclass(frozen=True)
class Problem:
    """One reason the reader cannot read the writer.

    ``reader_role`` is ``"new"`` when the new schema is the reader (a backward check) and
    ``"old"`` when an existing one is (a forward check); ``version`` is the existing
    version involved. ``info`` is Avro's detail: the field name, the missing symbols, or
    the types that clash.
    """

    type: IncompatibilityType
    path: str
    info: str
    reader: str
    writer: str
    reader_role: str
    version: int | None = None

    @property
    def writer_role(self) -> str:
        """The role of the writer: the other one of ``new`` and ``old``."""
        return "old" if self.reader_role == "new" else "new"

    def description(self) -> str:
        """Confluent's sentence for this kind of problem."""
        return _DESCRIPTIONS[self.type].format(
            path=self.path, info=self.info, reader=self.reader_role, writer=self.writer_role
        )

    def confluent_message(self) -> str:
        """The problem in Confluent's verbose message format, followed by the two fragments."""
        return (
            f"{{errorType:'{self.type}', description:'{self.description()}', "
            f"additionalInfo:'{self.info}', readerFragment:'{self.reader}', "
            f"writerFragment:'{self.writer}'}}"
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form; ``message`` is :meth:`description`, for readers of the JSON."""
        return {
            "type": str(self.type),
            "path": self.path,
            "message": self.description(),
            "info": self.info,
            "reader": self.reader,
            "writer": self.writer,
            "reader_role": self.reader_role,
            "version": self.version,
        }

    @classmethod
    def from_json(cls, data: object) -> Problem:
        """The problem :meth:`to_json` wrote; :class:`ValueError` if ``data`` is not one."""
        if not isinstance(data, dict):
            raise ValueError(f"a problem is a JSON object, not {type(data).__name__}")
        texts = {key: data.get(key) for key in ("path", "info", "reader", "writer", "reader_role")}
        version = data.get("version")
        if not all(isinstance(value, str) for value in texts.values()) or not (
            version is None or (isinstance(version, int) and not isinstance(version, bool))
        ):
            raise ValueError(f"not a compatibility problem: {data!r}")
        return cls(
            type=IncompatibilityType(str(data.get("type"))),
            path=str(texts["path"]),
            info=str(texts["info"]),
            reader=str(texts["reader"]),
            writer=str(texts["writer"]),
            reader_role=str(texts["reader_role"]),
            version=version,
        )

    def __str__(self) -> str:
        against = "" if self.version is None else f" (version {self.version})"
        return f"{self.type} at {self.path}{against}: {self.description()}"


def find_problems(
    reader: avro.schema.Schema,
    writer: avro.schema.Schema,
    *,
    reader_role: str,
    version: int | None = None,
) -> list[Problem]:
    """Every problem preventing ``reader`` from reading ``writer``; empty when it can."""
    walker = _Walker(reader_role, version)
    if walker.compatible(reader, writer):
        return []
    walker.walk(reader, writer, [])
    return walker.problems or [walker.fallback(reader, writer)]


def _fragment(schema: Any) -> str:
    return json.dumps(schema.to_json(), separators=(",", ":"))


def _location(path: list[str]) -> str:
    return "/" + "/".join(path)


class _Walker:
    def __init__(self, reader_role: str, version: int | None) -> None:
        self.reader_role = reader_role
        self.version = version
        self.problems: list[Problem] = []
        self._checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
        # Pairs being walked: recursive types would otherwise be walked forever.
        self._active: set[tuple[int, int]] = set()

    def compatible(self, reader: avro.schema.Schema, writer: avro.schema.Schema) -> bool:
        verdict = self._checker.get_compatibility(reader, writer)
        return verdict.compatibility is not SchemaCompatibilityType.incompatible

    def fallback(self, reader: avro.schema.Schema, writer: avro.schema.Schema) -> Problem:
        # Only reached if this walk and Avro ever disagree; report Avro's own findings.
        verdict = self._checker.get_compatibility(reader, writer)
        kind = IncompatibilityType(verdict.incompatibilities[0].name.upper())
        return self._problem(
            kind, min(verdict.locations), "; ".join(sorted(verdict.messages)), reader, writer
        )

    def walk(self, reader: avro.schema.Schema, writer: avro.schema.Schema, path: list[str]) -> None:
        key = (id(reader), id(writer))
        if key in self._active or self.compatible(reader, writer):
            return
        self._active.add(key)
        try:
            self._visit(reader, writer, path)
        finally:
            self._active.discard(key)

    def _visit(self, reader: Any, writer: Any, path: list[str]) -> None:
        kinds = (reader.type, writer.type)
        if reader.type == writer.type:
            self._same_kind(reader, writer, path)
        elif writer.type == "union":
            for branch in writer.schemas:
                self.walk(reader, branch, path)
        elif kinds in _PROMOTIONS:
            return
        elif reader.type == "union":
            info = f"reader union lacking writer type: {writer.type.upper()}"
            self._add(IncompatibilityType.MISSING_UNION_BRANCH, path, info, reader, writer)
        else:
            self._type_mismatch(reader, writer, path)

    def _same_kind(self, reader: Any, writer: Any, path: list[str]) -> None:
        kind = reader.type
        if kind in _PRIMITIVES:
            return
        if kind == "array":
            self.walk(reader.items, writer.items, [*path, "items"])
        elif kind == "map":
            self.walk(reader.values, writer.values, [*path, "values"])
        elif kind == "union":
            for index, branch in enumerate(writer.schemas):
                if not self.compatible(reader, branch):
                    info = f"reader union lacking writer type: {branch.type.upper()}"
                    kind_ = IncompatibilityType.MISSING_UNION_BRANCH
                    self._add(kind_, [*path, str(index)], info, reader, branch)
        else:
            self._names(reader, writer, path)
            if kind == "fixed" and reader.size != writer.size:
                info = f"expected: {writer.size}, found: {reader.size}"
                kind_ = IncompatibilityType.FIXED_SIZE_MISMATCH
                self._add(kind_, [*path, "size"], info, reader, writer)
            elif kind == "enum":
                self._symbols(reader, writer, path)
            elif kind in ("record", "error"):
                self._fields(reader, writer, path)

    def _names(self, reader: Any, writer: Any, path: list[str]) -> None:
        # Parsing qualified relative aliases (see evp.schema.parsed), as Avro's checker needs.
        aliases = reader.props.get("aliases") or []
        if reader.name != writer.name and writer.fullname not in aliases:
            info = f"expected: {writer.fullname}"
            self._add(IncompatibilityType.NAME_MISMATCH, [*path, "name"], info, reader, writer)

    def _symbols(self, reader: Any, writer: Any, path: list[str]) -> None:
        missing = sorted(set(writer.symbols) - set(reader.symbols))
        default = reader.props.get("default")
        if missing and default not in reader.symbols:
            info = "[" + ", ".join(missing) + "]"
            kind = IncompatibilityType.MISSING_ENUM_SYMBOLS
            self._add(kind, [*path, "symbols"], info, reader, writer)

    def _fields(self, reader: Any, writer: Any, path: list[str]) -> None:
        for index, field in enumerate(reader.fields):
            match = writer.fields_dict.get(field.name)
            for alias in field.props.get("aliases") or []:
                match = match or writer.fields_dict.get(alias)
            where = [*path, "fields", str(index)]
            if match is not None:
                self.walk(field.type, match.type, [*where, "type"])
            elif not field.has_default:
                kind = IncompatibilityType.READER_FIELD_MISSING_DEFAULT_VALUE
                self._add(kind, where, field.name, field, writer)

    def _type_mismatch(self, reader: Any, writer: Any, path: list[str]) -> None:
        info = (
            f"reader type: {reader.type.upper()} not compatible with writer type: "
            f"{writer.type.upper()}"
        )
        self._add(IncompatibilityType.TYPE_MISMATCH, path, info, reader, writer)

    def _add(
        self, kind: IncompatibilityType, path: list[str], info: str, reader: Any, writer: Any
    ) -> None:
        self.problems.append(self._problem(kind, _location(path), info, reader, writer))

    def _problem(
        self, kind: IncompatibilityType, path: str, info: str, reader: Any, writer: Any
    ) -> Problem:
        return Problem(
            type=kind,
            path=path,
            info=info,
            reader=_fragment(reader),
            writer=_fragment(writer),
            reader_role=self.reader_role,
            version=self.version,
        )
