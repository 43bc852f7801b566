"""Settings of a registry server, read once at start-up from flags and the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from evp.registry.auth import Role, User, parse_users
from evp.registry.errors import InvalidSettingError
from evp.schema.compatibility import CompatibilityLevel
from evp.schema.errors import InvalidCompatibilityLevelError

__all__ = ["DEFAULT_DATA_DIR", "RegistrySettings", "compatibility_from", "users_from"]

DEFAULT_DATA_DIR = Path(".evp/registry")


@dataclass(frozen=True)
class RegistrySettings:
    """Where to listen, where the data lives, who may read or write, and what to log.

    Without ``database_url`` the server runs an embedded Postgres in ``data_dir``. With
    ``access_log`` off, requests are not logged one by one (behind a proxy that logs
    them): a line per request is a large share of the cost of a lookup. ``compatibility``
    is the level that applies where no config sets one (Confluent's
    ``schema.compatibility.level``).
    """

    host: str = "127.0.0.1"
    port: int = 8081
    database_url: str | None = None
    data_dir: Path = DEFAULT_DATA_DIR
    users: tuple[User, ...] = field(default=(), repr=False)
    access_log: bool = True
    compatibility: CompatibilityLevel = CompatibilityLevel.BACKWARD

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RegistrySettings:
        """Settings from ``EVP_REGISTRY_*`` variables; absent ones keep their defaults.

        ``EVP_REGISTRY_USERS`` and ``EVP_REGISTRY_READ_ONLY_USERS`` hold comma-separated
        ``NAME:PASSWORD`` pairs of read-write and read-only users; ``EVP_REGISTRY_ACCESS_LOG``
        is ``true`` or ``false``; ``EVP_REGISTRY_COMPATIBILITY`` is the default level.
        """
        env = os.environ if environ is None else environ
        port = env.get("EVP_REGISTRY_PORT", "8081")
        if not port.isdigit() or not 0 <= int(port) < 65536:
            raise InvalidSettingError("EVP_REGISTRY_PORT", f"{port!r} is not a TCP port")
        return cls(
            host=env.get("EVP_REGISTRY_HOST", "127.0.0.1"),
            port=int(port),
            database_url=env.get("EVP_REGISTRY_DATABASE_URL") or None,
            data_dir=Path(env.get("EVP_REGISTRY_DATA_DIR") or DEFAULT_DATA_DIR),
            users=users_from(
                env.get("EVP_REGISTRY_USERS", ""), env.get("EVP_REGISTRY_READ_ONLY_USERS", "")
            ),
            access_log=_flag("EVP_REGISTRY_ACCESS_LOG", env.get("EVP_REGISTRY_ACCESS_LOG", "true")),
            compatibility=compatibility_from(
                "EVP_REGISTRY_COMPATIBILITY", env.get("EVP_REGISTRY_COMPATIBILITY") or "BACKWARD"
            ),
        )


def compatibility_from(key: str, value: str) -> CompatibilityLevel:
    """The level ``value`` names; :class:`InvalidSettingError` naming ``key`` if none."""
    try:
        return CompatibilityLevel.parse(value.strip())
    except InvalidCompatibilityLevelError as error:
        levels = ", ".join(level.value for level in CompatibilityLevel)
        raise InvalidSettingError(key, f"{value!r} is not one of {levels}") from error


def _flag(key: str, value: str) -> bool:
    spelled = value.strip().lower()
    if spelled not in ("true", "false"):
        raise InvalidSettingError(key, f"{value!r} is neither true nor false")
    return spelled == "true"


def users_from(read_write: str | list[str], read_only: str | list[str]) -> tuple[User, ...]:
    """Users from ``NAME:PASSWORD`` specs; :class:`InvalidSettingError` names a bad one."""
    try:
        return parse_users(read_write, Role.READ_WRITE) + parse_users(read_only, Role.READ_ONLY)
    except ValueError as error:
        raise InvalidSettingError("users", str(error)) from error
