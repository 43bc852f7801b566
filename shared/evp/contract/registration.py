"""``evp schemas register``: put every subject's full history into a registry, in order.

All-or-nothing as far as a registry allows: the plan is checked against what the registry
holds before anything is written, so a version the registry would reject stops the run with
its reasons and leaves the registry untouched. Running it again changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from evp.contract.breaking import Break, find_breaks
from evp.contract.catalog import Catalog
from evp.contract.errors import REGISTRY_CLIENT_ERRORS, ContractError, RegistryRequestFailed
from evp.contract.findings import Severity
from evp.contract.history import history_from_catalog, history_from_registry

__all__ = ["RegistrationPlan", "RegistrationRefused", "plan_registration"]

T = TypeVar("T")


class RegistrationRefused(ContractError):
    """The registry would reject part of the history; nothing was registered."""

    def __init__(self, breaks: list[Break]) -> None:
        super().__init__(f"registration refused: {len(breaks)} problem(s); nothing was changed")
        self.breaks = breaks

    def __str__(self) -> str:
        return "\n".join([self.message, *(f"  {b.format()}" for b in self.breaks)])


@dataclass(frozen=True)
class _SetLevel:
    subject: str
    level: str


@dataclass(frozen=True)
class _Register:
    subject: str
    version: int
    schema: str


@dataclass
class RegistrationPlan:
    """What a registration run will change, computed before any write."""

    url: str
    levels: list[_SetLevel]
    registrations: list[_Register]
    warnings: list[Break]

    @property
    def changes(self) -> int:
        """How many writes the plan makes."""
        return len(self.levels) + len(self.registrations)

    def apply(self, client: SchemaRegistryClient, report: Callable[[str], None]) -> None:
        """Make the changes, reporting each; a registry that disagrees is a typed error."""
        for step in self.levels:
            _call(self.url, step.subject, client.set_compatibility, step.subject, step.level)
            report(f"{step.subject}: compatibility set to {step.level}")
        for reg in self.registrations:
            schema = Schema(reg.schema, "AVRO")
            schema_id = _call(self.url, reg.subject, client.register_schema, reg.subject, schema)
            found = _call(self.url, reg.subject, client.lookup_schema, reg.subject, schema)
            if found.version != reg.version:
                raise ContractError(
                    f"the registry numbered this schema version {found.version}, "
                    f"but schemas/ has it as v{reg.version}; the registry's history differs",
                    registry=self.url,
                    subject=reg.subject,
                )
            report(f"{reg.subject}: registered v{reg.version} as schema id {schema_id}")


def plan_registration(catalog: Catalog, client: SchemaRegistryClient, url: str) -> RegistrationPlan:
    """The writes needed to bring the registry in line with ``schemas/``, checked first.

    Raises :class:`RegistrationRefused` when the registry's history conflicts with the files
    or a new version is incompatible at its subject's level.
    """
    current = history_from_catalog(catalog)
    registered = history_from_registry(client, current, url=url)
    breaks = find_breaks(current, registered, only_current=True)
    errors = [b for b in breaks if b.severity is Severity.ERROR]
    if errors:
        raise RegistrationRefused(errors)
    levels = [
        _SetLevel(name, subject.level)
        for name, subject in sorted(current.items())
        if subject.level is not None and registered[name].level != subject.level
    ]
    registrations = [
        _Register(name, version, subject.versions[version])
        for name, subject in sorted(current.items())
        for version in sorted(set(subject.versions) - set(registered[name].versions))
    ]
    warnings = [b for b in breaks if b.severity is Severity.WARNING and b.rule != "LEVEL_CHANGED"]
    return RegistrationPlan(url, levels, registrations, warnings)


def _call(url: str, subject: str, method: Callable[..., T], *args: Any) -> T:
    try:
        return method(*args)
    except REGISTRY_CLIENT_ERRORS as error:
        raise RegistryRequestFailed.from_client_error(
            error, registry=url, subject=subject
        ) from error
