"""Python source fragments for one type: its hint, its conversions, and default literals.

Conversions are emitted as straight-line expressions (no reflection at run time). Values
handed to fastavro use its tuple notation ``(branch name, value)`` for record branches of
unions, which spares fastavro from validating the record against every branch.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Callable
from typing import Any

from evp_codegen.errors import UnsupportedSchema
from evp_codegen.generate.model import (
    ArrayOf,
    EnumDef,
    FixedDef,
    Library,
    Logical,
    MapOf,
    NamedRef,
    Primitive,
    RecordDef,
    TypeRef,
    UnionOf,
)

__all__ = ["Expressions", "bytes_literal", "str_literal"]


def str_literal(value: str) -> str:
    """A double-quoted Python string literal (the quote style ruff format keeps)."""
    return json.dumps(value, ensure_ascii=False)


def bytes_literal(value: bytes) -> str:
    """A double-quoted Python bytes literal."""
    body = "".join(chr(c) if 32 <= c < 127 and c not in (34, 92) else f"\\x{c:02x}" for c in value)
    return f'b"{body}"'


_PRIMITIVE_HINTS = {
    "null": "None",
    "boolean": "bool",
    "int": "int",
    "long": "int",
    "float": "float",
    "double": "float",
    "bytes": "bytes",
    "string": "str",
}
# The exact Python type fastavro hands back for each primitive (used to pick union branches).
_RAW_TYPES = {
    "boolean": "bool",
    "int": "int",
    "long": "int",
    "float": "float",
    "double": "float",
    "bytes": "bytes",
    "string": "str",
}
_LOGICAL_HINTS = {
    "uuid": "uuid.UUID",
    "decimal": "decimal.Decimal",
    "date": "datetime.date",
    "time-millis": "datetime.time",
    "time-micros": "datetime.time",
    "timestamp-millis": "datetime.datetime",
    "timestamp-micros": "datetime.datetime",
    "local-timestamp-millis": "datetime.datetime",
    "local-timestamp-micros": "datetime.datetime",
}
_TO_AVRO = {
    "date": "_logical.date_to_days",
    "time-millis": "_logical.time_to_millis",
    "time-micros": "_logical.time_to_micros",
    "timestamp-millis": "_logical.datetime_to_millis",
    "timestamp-micros": "_logical.datetime_to_micros",
    "local-timestamp-millis": "_logical.local_datetime_to_millis",
    "local-timestamp-micros": "_logical.local_datetime_to_micros",
}
_FROM_AVRO = {
    "date": "_logical.days_to_date",
    "time-millis": "_logical.millis_to_time",
    "time-micros": "_logical.micros_to_time",
    "timestamp-millis": "_logical.millis_to_datetime",
    "timestamp-micros": "_logical.micros_to_datetime",
    "local-timestamp-millis": "_logical.millis_to_local_datetime",
    "local-timestamp-micros": "_logical.micros_to_local_datetime",
}


class Expressions:
    """Renders fragments for types of ``library`` as seen from module ``module``."""

    def __init__(self, library: Library, module: str) -> None:
        self.library = library
        self.module = module
        # Where the fragment being rendered sits, for error messages; set by the renderer.
        self.subject = module
        self.field_path = "$"
        self.imports: set[str] = set()
        self.local_imports: dict[str, set[str]] = {}

    # -- names and hints ----------------------------------------------------------------

    def class_name(self, full_name: str) -> str:
        """The class name of a named type, importing it when it lives in another module."""
        name = full_name.rpartition(".")[2]
        module = self.library.module_of(full_name)
        if module != self.module:
            self.local_imports.setdefault(module, set()).add(name)
        return name

    def hint(self, ref: TypeRef) -> str:
        """The exact type hint of ``ref``."""
        if isinstance(ref, Primitive):
            return _PRIMITIVE_HINTS[ref.name]
        if isinstance(ref, Logical):
            hint = _LOGICAL_HINTS[ref.kind]
            self.imports.add(hint.partition(".")[0])
            return hint
        if isinstance(ref, ArrayOf):
            return f"list[{self.hint(ref.items)}]"
        if isinstance(ref, MapOf):
            return f"dict[str, {self.hint(ref.values)}]"
        if isinstance(ref, UnionOf):
            hints = [self.hint(b) for b in ref.branches if b != Primitive("null")]
            if Primitive("null") in ref.branches:
                hints.append("None")
            return " | ".join(dict.fromkeys(hints))
        definition = self.library.types[ref.full_name]
        if isinstance(definition, FixedDef):
            return "bytes"
        return self.class_name(ref.full_name)

    # -- conversions --------------------------------------------------------------------

    def to_avro(self, ref: TypeRef, value: str, depth: int = 0) -> str:
        """An expression turning ``value`` (of type ``ref``) into what fastavro writes."""
        if isinstance(ref, Primitive):
            return value
        if isinstance(ref, Logical):
            if ref.kind == "uuid":
                return f"str({value})"
            if ref.kind == "decimal":
                self.imports.add("_logical")
                if ref.base == "fixed":
                    args = f"{ref.precision}, {ref.scale}, {ref.fixed_size}"
                    return f"_logical.decimal_to_fixed({value}, {args})"
                return f"_logical.decimal_to_bytes({value}, {ref.precision}, {ref.scale})"
            self.imports.add("_logical")
            return f"{_TO_AVRO[ref.kind]}({value})"
        if isinstance(ref, ArrayOf):
            item = f"_i{depth}"
            inner = self.to_avro(ref.items, item, depth + 1)
            return value if inner == item else f"[{inner} for {item} in {value}]"
        if isinstance(ref, MapOf):
            key, item = f"_k{depth}", f"_v{depth}"
            inner = self.to_avro(ref.values, item, depth + 1)
            return (
                value
                if inner == item
                else f"{{{key}: {inner} for {key}, {item} in {value}.items()}}"
            )
        if isinstance(ref, UnionOf):
            return self._union_to_avro(ref, value, depth)
        definition = self.library.types[ref.full_name]
        if isinstance(definition, RecordDef):
            return f"{value}.to_avro()"
        if isinstance(definition, EnumDef):
            return f"{value}.value"
        return value

    def from_avro(self, ref: TypeRef, value: str, depth: int = 0) -> str:
        """An expression turning ``value`` (as fastavro reads it) into type ``ref``."""
        if isinstance(ref, Primitive):
            return value
        if isinstance(ref, Logical):
            self.imports.add("_logical")
            if ref.kind == "uuid":
                return f"_logical.string_to_uuid({value})"
            if ref.kind == "decimal":
                return f"_logical.bytes_to_decimal({value}, {ref.scale})"
            return f"{_FROM_AVRO[ref.kind]}({value})"
        if isinstance(ref, ArrayOf):
            item = f"_i{depth}"
            inner = self.from_avro(ref.items, item, depth + 1)
            return value if inner == item else f"[{inner} for {item} in {value}]"
        if isinstance(ref, MapOf):
            key, item = f"_k{depth}", f"_v{depth}"
            inner = self.from_avro(ref.values, item, depth + 1)
            return (
                value
                if inner == item
                else f"{{{key}: {inner} for {key}, {item} in {value}.items()}}"
            )
        if isinstance(ref, UnionOf):
            return self._union_from_avro(ref, value, depth)
        definition = self.library.types[ref.full_name]
        if isinstance(definition, RecordDef):
            return f"{self.class_name(ref.full_name)}.from_avro({value})"
        if isinstance(definition, EnumDef):
            # By name: members are named for their symbols, and ``Enum[name]`` is a plain
            # dict lookup where ``Enum(value)`` goes through the metaclass's ``__call__``.
            return f"{self.class_name(ref.full_name)}[{value}]"
        return value

    def _union_to_avro(self, ref: UnionOf, value: str, depth: int) -> str:
        branches = [b for b in ref.branches if b != Primitive("null")]
        nullable = len(branches) < len(ref.branches)
        if len(branches) == 1:
            inner = self._branch_to_avro(branches[0], value, depth, tagged=False)
            if not nullable or inner == value:
                return inner
            return f"None if {value} is None else {inner}"
        self._check_unambiguous(ref)
        parts = [f"None if {value} is None else"] if nullable else []
        for branch in branches[:-1]:
            test = self._python_test(branch, value)
            parts.append(
                f"{self._branch_to_avro(branch, value, depth, tagged=True)} if {test} else"
            )
        parts.append(self._branch_to_avro(branches[-1], value, depth, tagged=True))
        return "(" + " ".join(parts) + ")"

    def _branch_to_avro(self, ref: TypeRef, value: str, depth: int, *, tagged: bool) -> str:
        converted = self.to_avro(ref, value, depth)
        if isinstance(ref, NamedRef) and isinstance(self.library.types[ref.full_name], RecordDef):
            return f"({str_literal(ref.full_name)}, {converted})"
        if tagged:
            return f"({str_literal(self._avro_branch_name(ref))}, {converted})"
        return converted

    def _union_from_avro(self, ref: UnionOf, value: str, depth: int) -> str:
        branches = [b for b in ref.branches if b != Primitive("null")]
        nullable = len(branches) < len(ref.branches)
        if len(branches) == 1:
            inner = self.from_avro(branches[0], value, depth)
            if not nullable or inner == value:
                return inner
            return f"None if {value} is None else {inner}"
        self._check_unambiguous(ref)
        named = [b for b in branches if isinstance(b, NamedRef)]
        parts = [f"None if {value} is None else"] if nullable else []
        for branch in branches:
            if isinstance(branch, NamedRef) and len(named) > 1:
                # fastavro tags values of unions with several named branches: (name, value).
                test = f"{value}[0] == {str_literal(branch.full_name)}"
                inner = self.from_avro(branch, f"{value}[1]", depth)
            else:
                test = f"type({value}) is {self._raw_type(branch)}"
                inner = self.from_avro(branch, value, depth)
            parts.append(f"{inner} if {test} else" if branch is not branches[-1] else inner)
        return "(" + " ".join(parts) + ")"

    def _avro_branch_name(self, ref: TypeRef) -> str:
        if isinstance(ref, Primitive):
            return ref.name
        if isinstance(ref, Logical):
            return ref.fixed_name if ref.fixed_name else ref.base
        if isinstance(ref, ArrayOf):
            return "array"
        if isinstance(ref, MapOf):
            return "map"
        if isinstance(ref, NamedRef):
            return ref.full_name
        raise UnsupportedSchema("nested unions", schema=self.subject, field_path=self.field_path)

    def _raw_type(self, ref: TypeRef) -> str:
        """The Python type of ``ref``'s value as fastavro reads it (for union dispatch)."""
        if isinstance(ref, Primitive):
            return _RAW_TYPES[ref.name]
        if isinstance(ref, Logical):
            return "bytes" if ref.base == "fixed" else _RAW_TYPES[ref.base]
        if isinstance(ref, ArrayOf):
            return "list"
        if isinstance(ref, MapOf):
            return "dict"
        definition = self.library.types[ref.full_name] if isinstance(ref, NamedRef) else None
        if isinstance(definition, RecordDef):
            return "dict"
        if isinstance(definition, EnumDef):
            return "str"
        return "bytes"

    def _python_test(self, ref: TypeRef, value: str) -> str:
        """A test that ``value`` (a Python value of the union) belongs to branch ``ref``."""
        if isinstance(ref, Logical):
            return f"type({value}) is {self.hint(ref)}"
        if isinstance(ref, NamedRef) and not isinstance(
            self.library.types[ref.full_name], FixedDef
        ):
            return f"type({value}) is {self.class_name(ref.full_name)}"
        return f"type({value}) is {self._raw_type(ref)}"

    def _check_unambiguous(self, ref: UnionOf) -> None:
        seen: dict[str, TypeRef] = {}
        named = sum(isinstance(b, NamedRef) for b in ref.branches)
        for branch in ref.branches:
            if branch == Primitive("null"):
                continue
            key = self._raw_type(branch)
            if isinstance(branch, NamedRef) and named > 1:
                key = branch.full_name
            if key in seen:
                raise UnsupportedSchema(
                    f"union branches {self._avro_branch_name(seen[key])} and "
                    f"{self._avro_branch_name(branch)} are indistinguishable once decoded",
                    schema=self.subject,
                    field_path=self.field_path,
                )
            seen[key] = branch

    # -- defaults -----------------------------------------------------------------------

    def default(self, ref: TypeRef, value: Any) -> tuple[str, bool]:
        """A Python literal for an Avro JSON default, and whether it must be a factory."""
        literal = self._literal(ref, value)
        mutable = isinstance(ref, ArrayOf | MapOf) or (
            isinstance(ref, NamedRef) and isinstance(self.library.types[ref.full_name], RecordDef)
        )
        if isinstance(ref, UnionOf):
            first = ref.branches[0]
            mutable = isinstance(first, ArrayOf | MapOf)
        return literal, mutable

    def _literal(self, ref: TypeRef, value: Any) -> str:
        if isinstance(ref, UnionOf):
            return self._literal(ref.branches[0], value)
        if isinstance(ref, Primitive):
            return _primitive_literal(ref.name, value)
        if isinstance(ref, Logical):
            return self._logical_literal(ref, value)
        if isinstance(ref, ArrayOf):
            return "[" + ", ".join(self._literal(ref.items, v) for v in value) + "]"
        if isinstance(ref, MapOf):
            items = (f"{str_literal(k)}: {self._literal(ref.values, v)}" for k, v in value.items())
            return "{" + ", ".join(items) + "}"
        definition = self.library.types[ref.full_name]
        name = self.class_name(ref.full_name)
        if isinstance(definition, EnumDef):
            return f"{name}.{value}"
        if isinstance(definition, FixedDef):
            return bytes_literal(str(value).encode("latin-1"))
        args = []
        for field in definition.fields:
            if field.name in value:
                args.append(f"{field.py_name}={self._literal(field.type, value[field.name])}")
        return f"{name}({', '.join(args)})"

    def _logical_literal(self, ref: Logical, value: Any) -> str:
        if ref.kind == "uuid":
            self.imports.add("uuid")
            return f"uuid.UUID({str_literal(str(value))})"
        if ref.kind == "decimal":
            self.imports.add("decimal")
            unscaled = int.from_bytes(str(value).encode("latin-1"), "big", signed=True)
            return (
                f"decimal.Decimal({str_literal(str(decimal.Decimal(unscaled).scaleb(-ref.scale)))})"
            )
        self.imports.add("_logical")
        return f"{_FROM_AVRO[ref.kind]}({int(value)})"


def _primitive_literal(kind: str, value: Any) -> str:
    converters: dict[str, Callable[[Any], str]] = {
        "null": lambda _: "None",
        "boolean": lambda v: repr(bool(v)),
        "int": lambda v: repr(int(v)),
        "long": lambda v: repr(int(v)),
        "float": lambda v: repr(float(v)),
        "double": lambda v: repr(float(v)),
        "bytes": lambda v: bytes_literal(str(v).encode("latin-1")),
        "string": lambda v: str_literal(str(v)),
    }
    return converters[kind](value)
