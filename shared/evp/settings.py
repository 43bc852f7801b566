"""Typed settings, read once from the environment at start-up.

A setting that is absent takes its embedded default (no ``KAFKA_BOOTSTRAP_SERVERS``: the
embedded broker; no database URL: an embedded Postgres in the data directory). A setting that
is present but malformed fails fast with an error naming the variable and what it expected.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from evp.credentials import BasicCredentials, split_credentials
from evp.errors import EvpError

__all__ = [
    "PlatformSettings",
    "SchemaMode",
    "SettingsError",
    "env_bool",
    "env_choice",
    "env_credentials",
    "env_float",
    "env_int",
    "env_str",
    "registry_address",
]

E = TypeVar("E", bound=enum.Enum)


class SettingsError(EvpError):
    """An environment variable holds a value the platform cannot use."""

    def __init__(self, key: str, value: str, expected: str) -> None:
        super().__init__(f"{key}={value!r} is invalid: expected {expected}", key=key)
        self.key = key


class SchemaMode(enum.Enum):
    """How publishers treat a schema the registry does not have yet."""

    STRICT = "strict"
    """Refuse: schemas are registered by `evp schemas register` (CI), never by services."""
    DEVELOPMENT = "development"
    """Register it, but only if the registry accepts it as compatible."""


def env_str(environ: Mapping[str, str], key: str, default: str | None = None) -> str | None:
    """The variable's value, stripped; ``default`` when absent or empty."""
    value = environ.get(key, "").strip()
    return value or default


def env_int(environ: Mapping[str, str], key: str, default: int, *, minimum: int = 0) -> int:
    """An integer variable of at least ``minimum``."""
    raw = env_str(environ, key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(key, raw, "an integer") from None
    if value < minimum:
        raise SettingsError(key, raw, f"an integer >= {minimum}")
    return value


def env_float(environ: Mapping[str, str], key: str, default: float) -> float:
    """A non-negative number."""
    raw = env_str(environ, key)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(key, raw, "a number") from None
    if value < 0:
        raise SettingsError(key, raw, "a number >= 0")
    return value


def env_bool(environ: Mapping[str, str], key: str, default: bool) -> bool:
    """``true``/``false`` (also 1/0, yes/no, on/off)."""
    raw = env_str(environ, key)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(key, raw, "true or false")


def env_choice(environ: Mapping[str, str], key: str, choices: type[E], default: E) -> E:
    """One of an enum's values (case-insensitive)."""
    raw = env_str(environ, key)
    if raw is None:
        return default
    for member in choices:
        if str(member.value).lower() == raw.lower():
            return member
    expected = " or ".join(str(m.value) for m in choices)
    raise SettingsError(key, raw, expected)


def env_credentials(environ: Mapping[str, str], key: str) -> BasicCredentials | None:
    """``user:password`` credentials; an error names the variable but never quotes it."""
    raw = env_str(environ, key)
    if raw is None:
        return None
    try:
        return BasicCredentials.parse(raw)
    except ValueError:
        raise SettingsError(key, "***", "user:password") from None


def registry_address(
    environ: Mapping[str, str],
) -> tuple[str | None, BasicCredentials | None]:
    """``SCHEMA_REGISTRY_URL`` without credentials, and the credentials to send it.

    ``SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO`` (Confluent's ``basic.auth.user.info``) wins
    over a ``user:password@`` in the URL; either way the URL kept holds none.
    """
    url = env_str(environ, "SCHEMA_REGISTRY_URL")
    in_url = None
    if url is not None:
        url, in_url = split_credentials(url)
    return url, env_credentials(environ, "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO") or in_url


@dataclass(frozen=True)
class PlatformSettings:
    """Where the platform's infrastructure is; absent values mean "start it embedded"."""

    kafka_bootstrap_servers: str | None
    schema_registry_url: str | None
    data_dir: Path
    schema_mode: SchemaMode
    schema_registry_credentials: BasicCredentials | None = None
    """Basic-auth credentials for the registry; never part of :attr:`schema_registry_url`."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PlatformSettings:
        """Read the settings once; raises :class:`SettingsError` naming a malformed variable."""
        env = os.environ if environ is None else environ
        registry_url, registry_credentials = registry_address(env)
        return cls(
            kafka_bootstrap_servers=env_str(env, "KAFKA_BOOTSTRAP_SERVERS"),
            schema_registry_url=registry_url,
            data_dir=Path(env_str(env, "EVP_DATA_DIR", ".evp") or ".evp"),
            schema_mode=env_choice(env, "EVP_SCHEMA_MODE", SchemaMode, SchemaMode.STRICT),
            schema_registry_credentials=registry_credentials,
        )
