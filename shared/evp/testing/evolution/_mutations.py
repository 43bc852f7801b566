"""The edits that turn an old schema into a new one: where each applies, and how."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from hypothesis import strategies as st

from evp.testing.evolution._drafter import Drafter, repair_defaults
from evp.testing.evolution._tree import (
    Path,
    get,
    hoist_definitions,
    is_definition,
    pointer,
    positions,
    put,
    union_key,
)

__all__ = ["Mutation", "MutationKind", "mutate"]

_WIDENING = ("int", "long", "float", "double")  # Avro's numeric promotions, narrowest first.


class MutationKind(StrEnum):
    """One edit turning an old schema into a new one."""

    ADD_FIELD_WITH_DEFAULT = "add_field_with_default"
    ADD_FIELD_WITHOUT_DEFAULT = "add_field_without_default"
    REMOVE_FIELD_WITH_DEFAULT = "remove_field_with_default"
    REMOVE_FIELD_WITHOUT_DEFAULT = "remove_field_without_default"
    PROMOTE = "promote"  # int -> long -> float -> double, any step forward
    DEMOTE = "demote"  # the reverse of a promotion
    STRING_TO_BYTES = "string_to_bytes"
    BYTES_TO_STRING = "bytes_to_string"
    ADD_ENUM_SYMBOL = "add_enum_symbol"
    REMOVE_ENUM_SYMBOL = "remove_enum_symbol"
    ADD_UNION_BRANCH = "add_union_branch"
    REMOVE_UNION_BRANCH = "remove_union_branch"
    MAKE_OPTIONAL = "make_optional"  # T -> a union of null and T
    UNWRAP_UNION = "unwrap_union"  # a union -> one of its branches
    RENAME_FIELD_WITH_ALIAS = "rename_field_with_alias"
    RENAME_FIELD_WITHOUT_ALIAS = "rename_field_without_alias"
    RENAME_TYPE_WITH_ALIAS = "rename_type_with_alias"
    RENAME_TYPE_WITHOUT_ALIAS = "rename_type_without_alias"


@dataclass(frozen=True)
class Mutation:
    """An edit applied, where (a JSON pointer into the new schema as it was then) and what."""

    kind: MutationKind
    path: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} at {self.path}: {self.detail}"


def mutate(drafter: Drafter, schema: dict[str, Any], kinds: list[MutationKind]) -> Mutation:
    """Edit ``schema`` in place with one of ``kinds`` that applies to it, drawn at random."""
    # Definitions by identity, so a mutation that detaches or renames one still finds it.
    definitions = [node for _, node, _ in positions(schema) if is_definition(node)]
    drafter.definitions = {node["name"]: node for node in definitions}
    sites = {kind: _MUTATORS[kind].sites(drafter, schema, kind) for kind in kinds}
    # Adding a field and renaming the root always apply, so there is always a choice.
    kind = drafter.draw(st.sampled_from([kind for kind in kinds if sites[kind]]))
    path, node = drafter.draw(st.sampled_from(sites[kind]))
    mutation = _MUTATORS[kind].apply(drafter, schema, kind, path, node)
    hoist_definitions(schema, {node["name"]: node for node in definitions})
    drafter.definitions = {n["name"]: n for _, n, _ in positions(schema) if is_definition(n)}
    repair_defaults(drafter, schema)
    return mutation


class _Mutator(NamedTuple):
    """Where a kind of mutation applies (path and node), and how it edits the schema there."""

    sites: Callable[[Drafter, dict[str, Any], MutationKind], list[tuple[Path, Any]]]
    apply: Callable[[Drafter, dict[str, Any], MutationKind, Path, Any], Mutation]


def _records(
    drafter: Drafter, schema: dict[str, Any], kind: MutationKind
) -> list[tuple[Path, Any]]:
    return [
        (p, n) for p, n, _ in positions(schema) if isinstance(n, dict) and n["type"] == "record"
    ]


def _fields(drafter: Drafter, schema: dict[str, Any], kind: MutationKind) -> list[tuple[Path, Any]]:
    fields = [
        ((*path, "fields", index), field)
        for path, record in _records(drafter, schema, kind)
        for index, field in enumerate(record["fields"])
    ]
    if kind is MutationKind.REMOVE_FIELD_WITH_DEFAULT:
        return [(path, field) for path, field in fields if "default" in field]
    if kind is MutationKind.REMOVE_FIELD_WITHOUT_DEFAULT:
        return [(path, field) for path, field in fields if "default" not in field]
    return fields


def _add_field(
    drafter: Drafter, schema: dict[str, Any], kind: MutationKind, path: Path, record: Any
) -> Mutation:
    # A new field may refer to enums and fixed types, never to records (which may enclose it).
    drafter.definitions = {k: v for k, v in drafter.definitions.items() if v["type"] != "record"}
    field = drafter.field(1, default=kind is MutationKind.ADD_FIELD_WITH_DEFAULT)
    index = drafter.draw(st.integers(0, len(record["fields"])))
    record["fields"].insert(index, field)
    return Mutation(kind, pointer((*path, "fields", index)), f"added {field['name']}")


def _remove_field(
    drafter: Drafter, schema: dict[str, Any], kind: MutationKind, path: Path, field: Any
) -> Mutation:
    del get(schema, path[:-1])[path[-1]]
    return Mutation(kind, pointer(path), f"removed {field['name']}")


def _retypable(
    drafter: Drafter, schema: dict[str, Any], kind: MutationKind
) -> list[tuple[Path, Any]]:
    return [
        (path, node)
        for path, node, _ in positions(schema)
        if _retypings(drafter, schema, kind, path)
    ]


def _retypings(
    drafter: Drafter, schema: dict[str, Any], kind: MutationKind, path: Path
) -> list[str]:
    """The types a promotion, demotion or string/bytes swap may give the node at ``path``."""
    node = get(schema, path)
    if not isinstance(node, str):
        return []
    if kind is MutationKind.STRING_TO_BYTES:
        targets = ["bytes"] if node == "string" else []
    elif kind is MutationKind.BYTES_TO_STRING:
        targets = ["string"] if node == "bytes" else []
    elif node not in _WIDENING:
        targets = []
    else:
        rank = _WIDENING.index(node)
        promoted = kind is MutationKind.PROMOTE
        targets = list(_WIDENING[rank + 1 :] if promoted else _WIDENING[:rank])
    parent = get(schema, path[:-1]) if path else None
    if isinstance(parent, list):  # The other branches of a union rule some types out.
        others = [branch for index, branch in enumerate(parent) if index != path[-1]]
        return [target for target in targets if target not in drafter.taken(others)]
    return targets


def _retype(
    drafter: Drafter, schema: dict[str, Any], kind: MutationKind, path: Path, node: Any
) -> Mutation:
    target = drafter.draw(st.sampled_from(_retypings(drafter, schema, kind, path)))
    put(schema, path, target)
    return Mutation(kind, pointer(path), f"{node} -> {target}")


def _enums(drafter: Drafter, schema: dict[str, Any], kind: MutationKind) -> list[tuple[Path, Any]]:
    enums = [(p, n) for p, n, _ in positions(schema) if isinstance(n, dict) and n["type"] == "enum"]
    if kind is MutationKind.REMOVE_ENUM_SYMBOL:
        return [(path, enum) for path, enum in enums if len(enum["symbols"]) > 1]
    return enums


def _add_symbol(
    drafter: Drafter, schema: dict[str, Any], kind: MutationKind, path: Path, enum: Any
) -> Mutation:
    symbol = drafter.fresh("S")
    enum["symbols"].insert(drafter.draw(st.integers(0, len(enum["symbols"]))), symbol)
    return Mutation(kind, pointer(path), f"added {symbol} to {enum['name']}")


def _remove_symbol(
    drafter: Drafter, schema: dict[str, Any], kind: MutationKind, path: Path, enum: Any
) -> Mutation:
    symbol = drafter.draw(st.sampled_from(enum["symbols"]))
    enum["symbols"].remove(symbol)
    if enum.get("default") == symbol:
        enum["default"] = drafter.draw(st.sampled_from(enum["symbols"]))
    return Mutation(kind, pointer(path), f"removed {symbol} from {enum['name']}")


def _unions(drafter: Drafter, schema: dict[str, Any], kind: MutationKind) -> list[tuple[Path, Any]]:
    unions = [(path, node) for path, node, _ in positions(schema) if isinstance(node, list)]
    if kind is MutationKind.REMOVE_UNION_BRANCH:
        return [(path, union) for path, union in unions if len(union) > 1]
    return unions


def _add_branch(
    drafter: Drafter, schema: dict[str, Any], kind: MutationKind, path: Path, union: Any
) -> Mutation:
    drafter.definitions = {k: v for k, v in drafter.definitions.items() if v["type"] != "record"}
    branch = drafter.type(1, taken=drafter.taken(union))
    index = drafter.draw(st.integers(0, len(union)))
    union.insert(index, branch)
    return Mutation(kind, pointer((*path, index)), f"added {union_key(branch)}")


def _remove_branch(
    drafter: Drafter, schema: dict[str, Any], kind: MutationKind, path: Path, union: Any
) -> Mutation:
    index = drafter.draw(st.integers(0, len(union) - 1))
    branch = union.pop(index)
    return Mutation(kind, pointer((*path, index)), f"removed {union_key(branch)}")


def _optional_sites(
    drafter: Drafter, schema: dict[str, Any], kind: MutationKind
) -> list[tuple[Path, Any]]:
    return [
        (path, node)
        for path, node, union in positions(schema)
        if path and union is None and not isinstance(node, list) and node != "null"
    ]


def _make_optional(
    drafter: Drafter, schema: dict[str, Any], kind: MutationKind, path: Path, node: Any
) -> Mutation:
    union = ["null", node] if drafter.draw(st.booleans()) else [node, "null"]
    put(schema, path, union)
    return Mutation(kind, pointer(path), f"{union_key(node)} -> {[union_key(b) for b in union]}")


def _unwrap(
    drafter: Drafter, schema: dict[str, Any], kind: MutationKind, path: Path, union: Any
) -> Mutation:
    branch = drafter.draw(st.sampled_from(union))
    put(schema, path, branch)
    return Mutation(kind, pointer(path), f"kept {union_key(branch)}")


def _rename_field(
    drafter: Drafter, schema: dict[str, Any], kind: MutationKind, path: Path, field: Any
) -> Mutation:
    old, field["name"] = field["name"], drafter.fresh("f")
    if kind is MutationKind.RENAME_FIELD_WITH_ALIAS:
        field["aliases"] = [*field.get("aliases", []), old]
    return Mutation(kind, pointer(path), f"{old} -> {field['name']}")


def _definitions(
    drafter: Drafter, schema: dict[str, Any], kind: MutationKind
) -> list[tuple[Path, Any]]:
    return [(path, node) for path, node, _ in positions(schema) if is_definition(node)]


def _rename_type(
    drafter: Drafter, schema: dict[str, Any], kind: MutationKind, path: Path, node: Any
) -> Mutation:
    old = node["name"]
    node["name"] = drafter.fresh(old[0])
    if kind is MutationKind.RENAME_TYPE_WITH_ALIAS:
        # The spec lets an alias be relative to the type's namespace or fully qualified.
        full = drafter.namespace is not None and drafter.draw(st.booleans())
        node["aliases"] = [*node.get("aliases", []), f"{drafter.namespace}.{old}" if full else old]
    for ref_path, ref, _ in list(positions(schema)):
        if ref == old:
            put(schema, ref_path, node["name"])
    return Mutation(kind, pointer(path), f"{old} -> {node['name']}")


_MUTATORS: dict[MutationKind, _Mutator] = {
    MutationKind.ADD_FIELD_WITH_DEFAULT: _Mutator(_records, _add_field),
    MutationKind.ADD_FIELD_WITHOUT_DEFAULT: _Mutator(_records, _add_field),
    MutationKind.REMOVE_FIELD_WITH_DEFAULT: _Mutator(_fields, _remove_field),
    MutationKind.REMOVE_FIELD_WITHOUT_DEFAULT: _Mutator(_fields, _remove_field),
    MutationKind.PROMOTE: _Mutator(_retypable, _retype),
    MutationKind.DEMOTE: _Mutator(_retypable, _retype),
    MutationKind.STRING_TO_BYTES: _Mutator(_retypable, _retype),
    MutationKind.BYTES_TO_STRING: _Mutator(_retypable, _retype),
    MutationKind.ADD_ENUM_SYMBOL: _Mutator(_enums, _add_symbol),
    MutationKind.REMOVE_ENUM_SYMBOL: _Mutator(_enums, _remove_symbol),
    MutationKind.ADD_UNION_BRANCH: _Mutator(_unions, _add_branch),
    MutationKind.REMOVE_UNION_BRANCH: _Mutator(_unions, _remove_branch),
    MutationKind.MAKE_OPTIONAL: _Mutator(_optional_sites, _make_optional),
    MutationKind.UNWRAP_UNION: _Mutator(_unions, _unwrap),
    MutationKind.RENAME_FIELD_WITH_ALIAS: _Mutator(_fields, _rename_field),
    MutationKind.RENAME_FIELD_WITHOUT_ALIAS: _Mutator(_fields, _rename_field),
    MutationKind.RENAME_TYPE_WITH_ALIAS: _Mutator(_definitions, _rename_type),
    MutationKind.RENAME_TYPE_WITHOUT_ALIAS: _Mutator(_definitions, _rename_type),
}
