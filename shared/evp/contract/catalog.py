"""The contract in ``schemas/``: subjects with their full history, shared types and routing.

Loading never stops at the first problem: everything wrong is collected as a
:class:`~evp.contract.findings.Finding` (file, JSON path, rule), so ``evp schemas lint`` can
report all of it at once. Callers that need a usable catalog call :meth:`Catalog.require_valid`.

Shared named types (``<domain>/<Type>.avsc``) are inlined at their first use in each schema,
so every subject version is a self-contained schema that any Avro tool can read without
reference resolution.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evp.contract.errors import CatalogInvalid
from evp.contract.findings import Finding, Severity
from evp.contract.schema_json import PRIMITIVES, normalized_json, qualify

__all__ = [
    "CATALOG_FILE",
    "COMPATIBILITY_LEVELS",
    "Catalog",
    "SharedType",
    "Subject",
    "SubjectVersion",
    "load_catalog",
]

CATALOG_FILE = "catalog.toml"
COMPATIBILITY_LEVELS = frozenset(
    {
        "NONE",
        "BACKWARD",
        "BACKWARD_TRANSITIVE",
        "FORWARD",
        "FORWARD_TRANSITIVE",
        "FULL",
        "FULL_TRANSITIVE",
    }
)
_DEFAULT_ENVELOPE = "common.Envelope"  # below the catalog's namespace
_VERSION_FILE = re.compile(r"^v([1-9][0-9]*)\.avsc$")


@dataclass(frozen=True)
class SharedType:
    """A named type defined once in ``<domain>/<Type>.avsc`` and inlined where it is used."""

    full_name: str
    path: Path
    schema: dict[str, Any]


@dataclass(frozen=True)
class SubjectVersion:
    """One version of a subject: the file as written and its self-contained resolved form."""

    subject: str
    version: int
    path: Path
    source: dict[str, Any]
    resolved: dict[str, Any]

    @property
    def schema_text(self) -> str:
        """The schema as registered: normalized JSON, independent of how the file is laid out."""
        return normalized_json(self.resolved)


@dataclass(frozen=True)
class Subject:
    """An event's subject: where it is routed and every version of it, oldest first."""

    name: str
    full_name: str
    topic: str
    key: str
    compatibility: str
    versions: tuple[SubjectVersion, ...]

    @property
    def latest(self) -> SubjectVersion:
        """The newest version, the one code is generated from."""
        return self.versions[-1]

    @property
    def domain(self) -> str:
        """The folder the subject's files live in."""
        return self.full_name.split(".")[-2]


@dataclass
class Catalog:
    """Everything under ``schemas/``, plus every problem found while reading it."""

    root: Path
    namespace: str
    default_compatibility: str
    topics: dict[str, str]
    envelope: str = ""
    """Full name of the shared record every event carries as its first field, ``envelope``."""
    subjects: dict[str, Subject] = field(default_factory=dict)
    shared_types: dict[str, SharedType] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def errors(self) -> list[Finding]:
        """Findings that make the catalog unusable for codegen or registration."""
        return [f for f in self.findings if f.severity is Severity.ERROR]

    def require_valid(self) -> Catalog:
        """Return self, or raise :class:`CatalogInvalid` listing every error."""
        errors = self.errors()
        if errors:
            raise CatalogInvalid(errors)
        return self

    def subject_for(self, full_name: str) -> Subject:
        """The subject of the event record ``full_name``."""
        for subject in self.subjects.values():
            if subject.full_name == full_name:
                return subject
        raise KeyError(full_name)

    def iter_versions(self) -> Iterator[SubjectVersion]:
        """Every version of every subject, subjects in name order, versions oldest first."""
        for name in sorted(self.subjects):
            yield from self.subjects[name].versions


def subject_name(topic: str, full_name: str) -> str:
    """The topic-record subject name strategy: ``<topic>-<record full name>``."""
    return f"{topic}-{full_name}"


def load_catalog(root: Path) -> Catalog:
    """Read ``root`` (a ``schemas/`` folder) into a :class:`Catalog`, collecting findings."""
    root = root.resolve()
    catalog_path = root / CATALOG_FILE
    findings: list[Finding] = []
    config = _read_config(catalog_path, findings)
    namespace = str(config.get("namespace", ""))
    catalog = Catalog(
        root=root,
        namespace=namespace,
        default_compatibility=str(config.get("default_compatibility", "BACKWARD")),
        topics={name: str(t.get("doc", "")) for name, t in _table(config, "topics").items()},
        envelope=str(
            config.get("envelope", ".".join(filter(None, (namespace, _DEFAULT_ENVELOPE))))
        ),
        findings=findings,
    )
    _check_level(catalog, catalog_path, "$.default_compatibility", catalog.default_compatibility)
    catalog.shared_types = _load_shared_types(root, findings)
    events = _table(config, "events")
    history = _discover_history(root, catalog, findings)
    for full_name in sorted(set(events) | set(history)):
        _load_subject(
            catalog, catalog_path, full_name, events.get(full_name), history.get(full_name)
        )
    return catalog


def _read_config(path: Path, findings: list[Finding]) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        findings.append(
            Finding(path, "$", "CATALOG_MISSING", f"no {CATALOG_FILE} in {path.parent}")
        )
    except tomllib.TOMLDecodeError as error:
        findings.append(Finding(path, "$", "CATALOG_INVALID", f"not valid TOML: {error}"))
    return {}


def _table(config: Mapping[str, Any], key: str) -> dict[str, dict[str, Any]]:
    value = config.get(key, {})
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(v, dict)}


def _check_level(catalog: Catalog, path: Path, json_path: str, level: str) -> None:
    if level not in COMPATIBILITY_LEVELS:
        catalog.findings.append(
            Finding(
                path,
                json_path,
                "CATALOG_UNKNOWN_COMPATIBILITY",
                f"unknown compatibility level {level!r}; "
                f"expected one of {', '.join(sorted(COMPATIBILITY_LEVELS))}",
            )
        )


def read_schema_file(path: Path, findings: list[Finding]) -> dict[str, Any] | None:
    """Parse one ``.avsc`` file as a JSON object, or record why it could not be read."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        findings.append(Finding(path, "$", "PARSE_ERROR", f"not UTF-8: {error}"))
        return None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        findings.append(
            Finding(path, "$", "PARSE_ERROR", f"not valid JSON at {where}: {error.msg}")
        )
        return None
    if not isinstance(value, dict):
        findings.append(
            Finding(path, "$", "PARSE_ERROR", "a schema file must hold one JSON object")
        )
        return None
    return value


def _load_shared_types(root: Path, findings: list[Finding]) -> dict[str, SharedType]:
    shared: dict[str, SharedType] = {}
    for path in sorted(p for p in root.glob("*/*.avsc") if not _hidden(p, root)):
        schema = read_schema_file(path, findings)
        if schema is None:
            continue
        name = schema.get("name")
        if not isinstance(name, str) or schema.get("type") not in ("record", "enum", "fixed"):
            findings.append(
                Finding(
                    path,
                    "$",
                    "SHARED_TYPE_INVALID",
                    "a shared type must be a named record, enum or fixed",
                )
            )
            continue
        full_name = qualify(name, schema.get("namespace"))
        if full_name in shared:
            findings.append(
                Finding(
                    path,
                    "$.name",
                    "DUPLICATE_NAME",
                    f"shared type {full_name} is also defined in {shared[full_name].path.name}",
                )
            )
            continue
        shared[full_name] = SharedType(full_name, path, schema)
    return shared


def _hidden(path: Path, root: Path) -> bool:
    """Dot-folders (``.git``, editor state) are never part of the contract."""
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _discover_history(
    root: Path, catalog: Catalog, findings: list[Finding]
) -> dict[str, list[tuple[int, Path]]]:
    """Map each event's expected full name to its version files, from the folder layout."""
    history: dict[str, list[tuple[int, Path]]] = {}
    for folder in sorted(p for p in root.glob("*/*") if p.is_dir() and not _hidden(p, root)):
        full_name = f"{catalog.namespace}.{folder.parent.name}.{folder.name}"
        versions: list[tuple[int, Path]] = []
        for path in sorted(folder.iterdir()):
            match = _VERSION_FILE.match(path.name)
            if match is None:
                findings.append(
                    Finding(
                        path,
                        "$",
                        "FILE_NAME_INVALID",
                        "files in a subject folder are named v<N>.avsc",
                    )
                )
                continue
            versions.append((int(match.group(1)), path))
        versions.sort()
        for expected, (number, path) in enumerate(versions, start=1):
            if number != expected:
                findings.append(
                    Finding(
                        path, "$", "VERSION_GAP", f"expected v{expected}.avsc before v{number}.avsc"
                    )
                )
                break
        history[full_name] = versions
    return history


def _load_subject(
    catalog: Catalog,
    catalog_path: Path,
    full_name: str,
    entry: dict[str, Any] | None,
    files: list[tuple[int, Path]] | None,
) -> None:
    where = f'$.events["{full_name}"]'
    if entry is None:
        path = files[0][1].parent if files else catalog.root
        catalog.findings.append(
            Finding(
                path,
                "$",
                "CATALOG_EVENT_MISSING",
                f"{full_name} has schemas but no entry in {CATALOG_FILE}",
            )
        )
        return
    if not files:
        catalog.findings.append(
            Finding(
                catalog_path, where, "CATALOG_SCHEMA_MISSING", f"no schema files for {full_name}"
            )
        )
        return
    topic = str(entry.get("topic", ""))
    if topic not in catalog.topics:
        catalog.findings.append(
            Finding(
                catalog_path,
                f"{where}.topic",
                "CATALOG_UNKNOWN_TOPIC",
                f"topic {topic!r} is not declared under [topics]",
            )
        )
    level = str(entry.get("compatibility", catalog.default_compatibility))
    _check_level(catalog, catalog_path, f"{where}.compatibility", level)
    name = subject_name(topic, full_name)
    versions = []
    for number, path in files:
        source = read_schema_file(path, catalog.findings)
        if source is None:
            continue
        resolved = resolve_shared_types(source, catalog.shared_types)
        versions.append(SubjectVersion(name, number, path, source, resolved))
    if len(versions) != len(files):
        return
    key = str(entry.get("key", ""))
    fields = {f.get("name") for f in versions[-1].source.get("fields", []) if isinstance(f, dict)}
    if key not in fields:
        catalog.findings.append(
            Finding(
                catalog_path,
                f"{where}.key",
                "CATALOG_KEY_FIELD_MISSING",
                f"key field {key!r} is not a field of {full_name}",
            )
        )
    catalog.subjects[name] = Subject(name, full_name, topic, key, level, tuple(versions))


def resolve_shared_types(
    schema: dict[str, Any], shared: Mapping[str, SharedType]
) -> dict[str, Any]:
    """Return ``schema`` with each shared type inlined at its first use (a deep copy).

    Avro requires a named type to be defined before (or at) its first reference, in document
    order; later references stay plain names. Unknown names are left for the parser to report.
    """
    defined: set[str] = set()

    def walk(node: Any, namespace: str | None) -> Any:
        if isinstance(node, str):
            if node in PRIMITIVES:
                return node
            full = qualify(node, namespace)
            if full in defined or full not in shared:
                return node
            return walk(shared[full].schema, namespace)
        if isinstance(node, list):
            return [walk(branch, namespace) for branch in node]
        if not isinstance(node, dict):
            return node
        kind = node.get("type")
        out = dict(node)
        if kind in ("record", "error", "enum", "fixed") and isinstance(node.get("name"), str):
            full = qualify(node["name"], node.get("namespace", namespace))
            defined.add(full)
            namespace = full.rpartition(".")[0] or None
        if kind in ("record", "error") and isinstance(node.get("fields"), list):
            out["fields"] = [
                {**f, "type": walk(f.get("type"), namespace)} if isinstance(f, dict) else f
                for f in node["fields"]
            ]
        elif kind == "array" and "items" in node:
            out["items"] = walk(node["items"], namespace)
        elif kind == "map" and "values" in node:
            out["values"] = walk(node["values"], namespace)
        elif isinstance(kind, dict | list):
            out["type"] = walk(kind, namespace)
        elif isinstance(kind, str) and kind not in PRIMITIVES and kind not in _COMPLEX:
            out["type"] = walk(kind, namespace)
        return out

    resolved: dict[str, Any] = walk(schema, None)
    return resolved


_COMPLEX = frozenset({"record", "error", "enum", "fixed", "array", "map"})
