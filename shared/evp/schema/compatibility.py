"""Compatibility levels and checks, with structured answers saying what breaks and where.

:func:`check` is the plain-Python entry point (the HTTP registry, the consumer's read
verdicts and the offline ``evp schemas check`` gate all use it). The verdict for every
reader/writer pair comes from ``avro.compatibility.ReaderWriterCompatibilityChecker``; that
checker reports its findings as unordered sets, so for an incompatible pair
:mod:`evp.schema.resolution` walks the two schemas to pair each problem with its path and fragments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from evp.schema.errors import InvalidCompatibilityLevelError, InvalidSchemaError
from evp.schema.parsed import ParsedSchema, parse_schema
from evp.schema.resolution import IncompatibilityType, Problem, find_problems

__all__ = [
    "CompatibilityLevel",
    "CompatibilityResult",
    "IncompatibilityType",
    "Problem",
    "VersionedSchema",
    "check",
]

# Confluent truncates the old schema it quotes in messages at this many characters.
_MAX_QUOTED_SCHEMA = 10 * 1024


class CompatibilityLevel(StrEnum):
    """Which earlier versions a new schema must stay compatible with, and in which direction."""

    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @classmethod
    def parse(cls, value: object) -> CompatibilityLevel:
        """The level ``value`` names (any case); :class:`InvalidCompatibilityLevelError` if none."""
        if isinstance(value, str) and value.upper() in cls.__members__:
            return cls[value.upper()]
        raise InvalidCompatibilityLevelError(value)

    @property
    def transitive(self) -> bool:
        """Whether every earlier version is checked, not only the latest."""
        return self.name.endswith("_TRANSITIVE")

    @property
    def backward(self) -> bool:
        """Whether the new schema must read data written with the old ones."""
        return self.name.startswith(("BACKWARD", "FULL"))

    @property
    def forward(self) -> bool:
        """Whether the old schemas must read data written with the new one."""
        return self.name.startswith(("FORWARD", "FULL"))


@dataclass(frozen=True)
class VersionedSchema:
    """An earlier schema and the version it has under its subject."""

    version: int
    schema: ParsedSchema


@dataclass(frozen=True)
class CompatibilityResult:
    """The outcome of :func:`check`: the problems found and the versions they were found against."""

    level: CompatibilityLevel
    problems: tuple[Problem, ...] = ()
    failed: tuple[VersionedSchema, ...] = ()

    @property
    def is_compatible(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def messages(self) -> list[str]:
        """The problems in Confluent's verbose format, each failed version quoted after its own."""
        if self.is_compatible:
            return []
        lines: list[str] = []
        for old in self.failed:
            lines.extend(p.confluent_message() for p in self.problems if p.version == old.version)
            lines.append(f"{{oldSchemaVersion: {old.version}}}")
            quoted = old.schema.canonical
            if len(quoted) <= _MAX_QUOTED_SCHEMA:
                lines.append(f"{{oldSchema: '{quoted}'}}")
            else:
                lines.append(
                    f"{{oldSchema: <truncated to {_MAX_QUOTED_SCHEMA} characters> "
                    f"'{quoted[:_MAX_QUOTED_SCHEMA]}'}}"
                )
        lines.append(f"{{validateFields: 'false', compatibility: '{self.level}'}}")
        return lines

    def __str__(self) -> str:
        if self.is_compatible:
            return f"compatible ({self.level})"
        return f"incompatible ({self.level}): " + "; ".join(str(p) for p in self.problems)


def check(
    new_schema: ParsedSchema | str,
    existing: Sequence[VersionedSchema | ParsedSchema | str],
    level: CompatibilityLevel | str = CompatibilityLevel.BACKWARD,
    *,
    stop_at_first: bool = True,
) -> CompatibilityResult:
    """Check ``new_schema`` against ``existing`` (oldest first) under ``level``.

    Plain schema texts are parsed (without references); unversioned schemas are numbered
    1, 2, … in the order given. Non-transitive levels look at the latest schema only;
    transitive ones go from newest to oldest and, like Confluent's registry, stop at the
    first incompatible version unless ``stop_at_first`` is false.
    """
    level = CompatibilityLevel.parse(level)
    new = parse_schema(new_schema) if isinstance(new_schema, str) else new_schema
    previous = [_versioned(item, index) for index, item in enumerate(existing, start=1)]
    if level is CompatibilityLevel.NONE or not previous:
        return CompatibilityResult(level)
    candidates = list(reversed(previous)) if level.transitive else previous[-1:]
    problems: list[Problem] = []
    failed: list[VersionedSchema] = []
    for old in candidates:
        found = _problems_against(new, old, level)
        if found:
            problems.extend(found)
            failed.append(old)
            if stop_at_first:
                break
    return CompatibilityResult(level, tuple(problems), tuple(failed))


def _versioned(item: VersionedSchema | ParsedSchema | str, position: int) -> VersionedSchema:
    if isinstance(item, VersionedSchema):
        return item
    schema = parse_schema(item) if isinstance(item, str) else item
    return VersionedSchema(position, schema)


def _problems_against(
    new: ParsedSchema, old: VersionedSchema, level: CompatibilityLevel
) -> list[Problem]:
    found: list[Problem] = []
    try:
        # Confluent lists the old-reads-new findings first when both directions apply.
        if level.forward:
            found += find_problems(
                old.schema.avro, new.avro, reader_role="old", version=old.version
            )
        if level.backward:
            found += find_problems(
                new.avro, old.schema.avro, reader_role="new", version=old.version
            )
    except RecursionError as error:
        raise InvalidSchemaError("schema is nested too deeply to check") from error
    return found
