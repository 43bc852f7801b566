"""What ``evp up`` starts, and what it uses as configured, decided from the environment.

Each part of the platform is either *configured* (its variable is set: it is used, after
a check that it answers) or *started* here as a child process (or, for Postgres, as an
embedded server owned by ``evp up``). The plan is pure data, so tests read it without
starting anything.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from evp.eventstore.database import database_url_variable
from evp.settings import PlatformSettings, env_int, env_str, registry_address
from evp.up.errors import PlanError

__all__ = [
    "REGISTRY_DATABASE",
    "SERVICES",
    "Part",
    "Plan",
    "parse_replicas",
]

SERVICES = ("users", "orders", "inventory", "payments", "notifications", "analytics")
"""The shop's services, in start order: users first (the others verify tokens against its
JWKS), then the other five together."""

REGISTRY_DATABASE = "registry"
DEFAULT_ADMIN_EMAIL = "admin@shop.local"  # the users service's own default
MAX_REPLICAS = 16
DEFAULT_CONSOLE_PORT = 8700
"""The console's port unless EVP_CONSOLE_PORT says otherwise (a taken port: any free one)."""


@dataclass(frozen=True)
class Part:
    """One line of the plan: a part of the platform, and whether it is started or used."""

    name: str
    started: bool
    where: str


@dataclass(frozen=True)
class Plan:
    """Everything ``evp up`` decides before starting anything."""

    data_dir: Path
    schemas: Path
    topic_prefix: str = ""
    kafka: str | None = None
    """``KAFKA_BOOTSTRAP_SERVERS`` when set; ``None``: start ``evp broker``."""
    registry_url: str | None = None
    """``SCHEMA_REGISTRY_URL`` when set; ``None``: start ``evp registry serve``."""
    registry_database_url: str | None = None
    """``EVP_REGISTRY_DATABASE_URL`` for a registry started here; ``None``: embedded."""
    databases: Mapping[str, str | None] = field(default_factory=dict)
    """Each service's configured ``<SERVICE>_DATABASE_URL``; ``None``: embedded."""
    smtp: str | None = None
    """``NOTIFICATIONS_SMTP_HOST[:PORT]`` when set; ``None``: start the mail sink."""
    replicas: Mapping[str, int] = field(default_factory=dict)
    admin_email: str = DEFAULT_ADMIN_EMAIL
    host: str = "127.0.0.1"
    console_port: int | None = DEFAULT_CONSOLE_PORT
    """Where the console listens (on the loopback interface only); 0: any free port;
    ``None``: no console."""

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        replicas: Mapping[str, int] | None = None,
        schemas: Path = Path("schemas"),
        topic_prefix: str | None = None,
    ) -> Plan:
        """The plan for ``environ`` (the process environment by default)."""
        env = os.environ if environ is None else environ
        platform = PlatformSettings.from_env(env)
        registry_url, _ = registry_address(env)
        return cls(
            data_dir=platform.data_dir,
            schemas=schemas,
            topic_prefix=(
                topic_prefix
                if topic_prefix is not None
                else env_str(env, "EVP_TOPIC_PREFIX", "") or ""
            ),
            kafka=platform.kafka_bootstrap_servers,
            registry_url=registry_url,
            registry_database_url=env_str(env, "EVP_REGISTRY_DATABASE_URL"),
            databases={s: env_str(env, database_url_variable(s)) for s in SERVICES},
            smtp=_smtp(env),
            replicas={s: (replicas or {}).get(s, 1) for s in SERVICES},
            admin_email=(env_str(env, "USERS_ADMIN_EMAIL", DEFAULT_ADMIN_EMAIL) or "").lower(),
            host=env_str(env, "EVP_HOST", "127.0.0.1") or "127.0.0.1",
            console_port=env_int(env, "EVP_CONSOLE_PORT", DEFAULT_CONSOLE_PORT),
        )

    def instances(self, service: str) -> int:
        """How many processes of ``service`` to run."""
        return self.replicas.get(service, 1)

    @property
    def postgres_dir(self) -> Path:
        """Where the embedded Postgres keeps its cluster (durable across runs)."""
        return self.data_dir / "postgres"

    @property
    def embedded_databases(self) -> tuple[str, ...]:
        """The databases to create on the embedded Postgres; empty: it is not started."""
        names = [s for s in SERVICES if self.databases.get(s) is None]
        if self.registry_url is None and self.registry_database_url is None:
            names.append(REGISTRY_DATABASE)
        return tuple(names)

    def parts(self) -> list[Part]:
        """The plan in start order, as the table ``evp up`` prints before booting."""
        embedded = self.embedded_databases
        return [
            Part(
                "postgres",
                bool(embedded),
                f"{self.postgres_dir} ({', '.join(embedded)})" if embedded else "all configured",
            ),
            Part("kafka", self.kafka is None, self.kafka or "evp broker"),
            Part("registry", self.registry_url is None, self.registry_url or "evp registry serve"),
            Part("schemas", False, str(self.schemas)),
            Part("smtp", self.smtp is None, self.smtp or "mail sink"),
            *(Part(s, True, f"evp serve {s} x{self.instances(s)}") for s in SERVICES),
        ]


def parse_replicas(specs: Iterable[str]) -> dict[str, int]:
    """``["inventory=2"]`` as ``{"inventory": 2}``; :class:`PlanError` names a bad one."""
    found: dict[str, int] = {}
    for spec in specs:
        name, equals, count = spec.partition("=")
        if not equals or not count.isdigit():
            raise PlanError(f"{spec!r} is not SERVICE=N", option="--replicas")
        if name not in SERVICES:
            raise PlanError(
                f"{name!r} is not a service (one of {', '.join(SERVICES)})", option="--replicas"
            )
        if not 1 <= int(count) <= MAX_REPLICAS:
            raise PlanError(
                f"{spec!r}: N must be between 1 and {MAX_REPLICAS}", option="--replicas"
            )
        found[name] = int(count)
    return found


def _smtp(env: Mapping[str, str]) -> str | None:
    host = env_str(env, "NOTIFICATIONS_SMTP_HOST")
    if host is None:
        return None
    return f"{host}:{env_int(env, 'NOTIFICATIONS_SMTP_PORT', 25, minimum=1)}"
