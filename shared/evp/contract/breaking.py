"""The compatibility gate: which changes to ``schemas/`` would break a subject's consumers.

Like ``buf breaking``: the working tree is compared with a baseline history (a git revision
or a registry). Versions the baseline already has must be unchanged (history is never
rewritten or removed); each version the baseline lacks is checked against every earlier
version at the subject's level, with the same checker the registry server uses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evp.contract.findings import Severity
from evp.contract.history import SubjectHistory
from evp.contract.schema_json import normalized_json
from evp.schema.compatibility import VersionedSchema, check
from evp.schema.errors import InvalidSchemaError
from evp.schema.parsed import ParsedSchema, parse_schema

__all__ = ["Break", "Severity", "find_breaks"]


@dataclass(frozen=True)
class Break:
    """One change that breaks (or may break) a subject, with everything needed to find it."""

    subject: str
    version: int
    rule: str
    json_path: str
    message: str
    level: str
    against: int | None = None
    file: Path | None = None
    severity: Severity = Severity.ERROR

    def location(self, relative_to: Path | None = None) -> str:
        """The file of the offending version (relative when below ``relative_to``)."""
        if self.file is None:
            return self.subject
        if relative_to is not None and self.file.is_relative_to(relative_to):
            return str(self.file.relative_to(relative_to))
        return str(self.file)

    def summary(self) -> str:
        """Subject, versions and level, then the problem."""
        against = f" vs v{self.against}" if self.against is not None else ""
        return f"{self.subject} v{self.version}{against} ({self.level}): {self.message}"

    def format(self, relative_to: Path | None = None) -> str:
        """The text form: ``file: json-path: RULE: subject vN vs vM (LEVEL): message``."""
        return f"{self.location(relative_to)}: {self.json_path}: {self.rule}: {self.summary()}"

    def to_json(self, relative_to: Path | None = None) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "file": self.location(relative_to),
            "subject": self.subject,
            "version": self.version,
            "against_version": self.against,
            "level": self.level,
            "rule": self.rule,
            "path": self.json_path,
            "severity": self.severity.value,
            "message": self.message,
        }

    def github(self, relative_to: Path | None = None) -> str:
        """A GitHub Actions annotation."""
        kind = "error" if self.severity is Severity.ERROR else "warning"
        return f"::{kind} file={self.location(relative_to)},title={self.rule}::{self.summary()}"


def find_breaks(
    current: Mapping[str, SubjectHistory],
    baseline: Mapping[str, SubjectHistory] | None,
    *,
    only_current: bool = False,
) -> list[Break]:
    """Every break of ``current`` against ``baseline`` (None: check the whole history).

    ``only_current`` ignores baseline subjects the current tree does not have (a registry
    holds other teams' subjects too); otherwise a removed subject is a break.
    """
    breaks: list[Break] = []
    base = baseline or {}
    for name in sorted(current):
        breaks += _subject_breaks(current[name], base.get(name))
    if not only_current:
        for name in sorted(set(base) - set(current)):
            gone = base[name]
            breaks.append(
                Break(
                    name,
                    max(gone.versions, default=0),
                    "SUBJECT_REMOVED",
                    "$",
                    "the subject was removed; its consumers can no longer find its schemas",
                    gone.level or "?",
                )
            )
    return breaks


def _subject_breaks(subject: SubjectHistory, base: SubjectHistory | None) -> list[Break]:
    level = subject.level or "BACKWARD"
    known = dict(base.versions) if base else {}
    breaks: list[Break] = []

    def add(version: int, rule: str, message: str, **extra: Any) -> None:
        file = subject.files.get(version)
        breaks.append(
            Break(subject.subject, version, rule, "$", message, level, file=file, **extra)
        )

    for version in sorted(set(known) - set(subject.versions)):
        add(version, "VERSION_REMOVED", "a published version was removed from the history")
    for version in sorted(set(known) & set(subject.versions)):
        if _normalized(known[version]) != _normalized(subject.versions[version]):
            add(version, "HISTORY_REWRITTEN", "a published version was changed; add a new version")
    if base is not None and base.level is not None and base.level != level:
        add(
            max(subject.versions),
            "LEVEL_CHANGED",
            f"compatibility level changes from {base.level} to {level}",
            severity=Severity.WARNING,
        )
    parsed: list[VersionedSchema] = []
    for version in sorted(subject.versions):
        try:
            schema = parse_schema(subject.versions[version])
        except InvalidSchemaError as error:
            add(version, "INVALID_SCHEMA", str(error))
            continue
        if version not in known:
            breaks += _incompatibilities(subject, version, schema, parsed, level)
        parsed.append(VersionedSchema(version, schema))
    return breaks


def _incompatibilities(
    subject: SubjectHistory,
    version: int,
    schema: ParsedSchema,
    earlier: list[VersionedSchema],
    level: str,
) -> list[Break]:
    result = check(schema, earlier, level, stop_at_first=False)
    return [
        Break(
            subject.subject,
            version,
            str(problem.type),
            problem.path,
            f"{problem.description()} ({problem.info})" if problem.info else problem.description(),
            level,
            against=problem.version,
            file=subject.files.get(version),
        )
        for problem in result.problems
    ]


def _normalized(text: str) -> str:
    try:
        return normalized_json(json.loads(text))
    except json.JSONDecodeError:
        return text
