"""``evp doctor``: is Kafka reachable, the registry, each database; are the schemas registered?

Where to look comes from the environment first (the variables the services read), then
from the description a running ``evp up`` keeps (``$EVP_DATA_DIR/up.json``, or the file
given), then the defaults. Each check ends as ok, failed (with what to do about it), or
skipped (nothing to check: the part is embedded per process, or what it needs failed).
"""

from __future__ import annotations

import asyncio
import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evp.contract.errors import ContractError
from evp.credentials import BasicCredentials
from evp.eventstore.database import database_url_variable
from evp.messaging.config import DEFAULT_REGISTRY_URL, MessagingSettings
from evp.settings import PlatformSettings, env_str, registry_address
from evp.up.errors import Unreachable
from evp.up.plan import SERVICES
from evp.up.probes import kafka_answers, postgres_accepts, registry_answers
from evp.up.schemas import pending_registrations

__all__ = ["Check", "Status", "Targets", "diagnose", "read_state"]


class Status(enum.Enum):
    """How a check ended."""

    OK = "ok"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True)
class Check:
    """One check's outcome: what was checked, what was found, and what to do if it failed."""

    name: str
    status: Status
    detail: str
    fix: str | None = None

    def format(self) -> str:
        """``ok   kafka: answers at ...`` and, for a failure, the fix on the next line."""
        line = f"{self.status.value:4} {self.name}: {self.detail}"
        return line + (f"\n     -> {self.fix}" if self.fix else "")


@dataclass(frozen=True)
class Target:
    """An address to check and where it came from (a variable, or the ``evp up`` file)."""

    address: str | None
    source: str


@dataclass(frozen=True)
class Targets:
    """Everything ``evp doctor`` checks."""

    kafka: Target
    registry: Target
    databases: Mapping[str, Target]
    data_dir: Path
    kafka_properties: Mapping[str, str] | None = None
    registry_credentials: BasicCredentials | None = None

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str], state: Mapping[str, Any] | None, state_path: Path
    ) -> Targets:
        """Targets from ``environ``, then the ``evp up`` description ``state``, then defaults."""
        up = state or {}
        from_file = f"from {state_path}"
        platform = PlatformSettings.from_env(environ)
        registry_url, credentials = registry_address(environ)
        databases = {}
        for service in SERVICES:
            variable = database_url_variable(service)
            url = env_str(environ, variable)
            recorded = (up.get("databases") or {}).get(service)
            databases[service] = (
                Target(url, variable)
                if url
                else Target(recorded, from_file)
                if recorded
                else Target(None, variable)
            )
        return cls(
            kafka=_target(
                platform.kafka_bootstrap_servers,
                "KAFKA_BOOTSTRAP_SERVERS",
                up.get("kafka"),
                from_file,
            ),
            registry=_target(registry_url, "SCHEMA_REGISTRY_URL", up.get("registry"), from_file)
            if registry_url or up.get("registry")
            else Target(DEFAULT_REGISTRY_URL, "the default (SCHEMA_REGISTRY_URL unset)"),
            databases=databases,
            data_dir=platform.data_dir,
            kafka_properties=MessagingSettings.from_env(environ).client_properties,
            registry_credentials=credentials,
        )


def read_state(path: Path) -> dict[str, Any] | None:
    """The description ``evp up`` keeps at ``path``; ``None`` when there is none."""
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


async def diagnose(targets: Targets, schemas: Path) -> list[Check]:
    """Every check, in the order the platform depends on them."""
    registry = await _registry(targets)
    checks = [await _kafka(targets), registry]
    checks.append(await _schemas(targets, schemas, reachable=registry.status is Status.OK))
    checks += await asyncio.gather(
        *(_database(name, target, targets.data_dir) for name, target in targets.databases.items())
    )
    return checks


async def _kafka(targets: Targets) -> Check:
    target = targets.kafka
    if target.address is None:
        return Check(
            "kafka",
            Status.SKIP,
            "KAFKA_BOOTSTRAP_SERVERS is not set: each process starts a broker of its own, "
            "so separate processes do not see each other's events",
            fix="run the platform with `evp up`, or run `evp broker` and set "
            "KAFKA_BOOTSTRAP_SERVERS",
        )
    try:
        await kafka_answers(target.address, properties=targets.kafka_properties, timeout=5)
    except Unreachable as error:
        return Check(
            "kafka",
            Status.FAIL,
            f"unreachable at {target.address} ({target.source}): {error.reason}",
            fix="start it with `evp broker` (or `evp up`), or set KAFKA_BOOTSTRAP_SERVERS "
            "to a running cluster",
        )
    return Check("kafka", Status.OK, f"answers at {target.address} ({target.source})")


async def _registry(targets: Targets) -> Check:
    url = targets.registry.address or DEFAULT_REGISTRY_URL
    try:
        await registry_answers(url, credentials=targets.registry_credentials, timeout=5)
    except Unreachable as error:
        return Check(
            "registry",
            Status.FAIL,
            f"unreachable at {url} ({targets.registry.source}): {error.reason}",
            fix="start it with `evp registry serve` (or `evp up`), or set SCHEMA_REGISTRY_URL",
        )
    return Check("registry", Status.OK, f"answers at {url} ({targets.registry.source})")


async def _schemas(targets: Targets, schemas: Path, *, reachable: bool) -> Check:
    url = targets.registry.address or DEFAULT_REGISTRY_URL
    if not reachable:
        return Check("schemas", Status.SKIP, "not checked: the registry is unreachable")
    try:
        pending = await asyncio.to_thread(
            pending_registrations, schemas, url, credentials=targets.registry_credentials
        )
    except ContractError as error:
        return Check(
            "schemas",
            Status.FAIL,
            str(error),
            fix="the registry's history conflicts with schemas/: see `evp schemas check "
            f"--registry {url}`",
        )
    if pending:
        return Check(
            "schemas",
            Status.FAIL,
            f"{pending} change(s) of {schemas} not registered at {url}",
            fix=f"run `evp schemas register --registry {url}`",
        )
    return Check("schemas", Status.OK, f"every subject of {schemas} registered at {url}")


async def _database(service: str, target: Target, data_dir: Path) -> Check:
    name = f"database {service}"
    url = target.address
    if url is None:
        return Check(
            name,
            Status.SKIP,
            f"{target.source} is not set: `evp serve {service}` starts an embedded "
            f"Postgres in {data_dir / service / 'postgres'}",
        )
    if ":***@" in url:
        return Check(
            name, Status.SKIP, f"its password is not recorded ({target.source})",
            fix=f"set {database_url_variable(service)} to check it",
        )  # fmt: skip
    try:
        await postgres_accepts(url, timeout=5)
    except Unreachable as error:
        running = " (is `evp up` running?)" if target.source.startswith("from ") else ""
        return Check(
            name,
            Status.FAIL,
            f"unreachable ({target.source}){running}: {error.reason}",
            fix=f"start that Postgres, or fix {database_url_variable(service)} "
            "(unset: the service embeds one)",
        )
    return Check(name, Status.OK, f"accepts connections ({target.source})")


def _target(value: str | None, variable: str, recorded: object, from_file: str) -> Target:
    if value:
        return Target(value, variable)
    if isinstance(recorded, str) and recorded:
        return Target(recorded, from_file)
    return Target(None, variable)
