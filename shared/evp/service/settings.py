"""What a service reads from the environment, once, at start-up.

Everything has an embedded default, so ``evp serve orders`` runs on a bare machine: no
``ORDERS_DATABASE_URL`` starts an embedded Postgres in ``.evp/orders/``, no
``KAFKA_BOOTSTRAP_SERVERS`` the embedded broker. A malformed value fails at once, naming the
variable.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

from evp.eventstore.database import ServiceDatabase
from evp.messaging.config import MessagingSettings
from evp.settings import PlatformSettings, SettingsError, env_float, env_int, env_str

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_TOKEN_AUDIENCE",
    "DEFAULT_TOKEN_ISSUER",
    "ServiceSettings",
    "port_variable",
]

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_TOKEN_ISSUER = "evp-users"
DEFAULT_TOKEN_AUDIENCE = "evp"


def port_variable(service: str) -> str:
    """The variable holding ``service``'s HTTP port, e.g. ``ORDERS_PORT``."""
    return f"{service.upper().replace('-', '_')}_PORT"


@dataclasses.dataclass(frozen=True)
class ServiceSettings:
    """One service's settings: its database, the messaging runtime, HTTP and auth."""

    service: str
    database: ServiceDatabase
    messaging: MessagingSettings
    host: str = "127.0.0.1"
    port: int = 0
    """0: any free port (``evp serve`` prints the one it got)."""
    jwks_url: str | None = None
    """Where the users service publishes its public keys; ``None``: no bearer tokens."""
    token_issuer: str = DEFAULT_TOKEN_ISSUER
    """The ``iss`` bearer tokens must carry (the users service issues them so)."""
    token_audience: str = DEFAULT_TOKEN_AUDIENCE
    """The ``aud`` bearer tokens must carry."""
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    log_level: str = "INFO"
    readiness_timeout: float = 2.0
    """Seconds each readiness check may take before it counts as failing."""

    @classmethod
    def from_env(cls, service: str, environ: Mapping[str, str] | None = None) -> ServiceSettings:
        """Read ``service``'s settings; :class:`~evp.settings.SettingsError` names a bad one.

        ``<SERVICE>_DATABASE_URL``, ``<SERVICE>_PORT`` (else ``PORT``), ``EVP_HOST``,
        ``EVP_JWKS_URL``, ``EVP_TOKEN_ISSUER``, ``EVP_TOKEN_AUDIENCE``,
        ``EVP_MAX_BODY_BYTES``, ``EVP_LOG_LEVEL``, ``EVP_READINESS_TIMEOUT_S`` and the
        messaging variables (``KAFKA_BOOTSTRAP_SERVERS``, ``SCHEMA_REGISTRY_URL``,
        ``EVP_TOPIC_PREFIX``, ...).
        """
        env = os.environ if environ is None else environ
        platform = PlatformSettings.from_env(env)
        port_key = port_variable(service) if env_str(env, port_variable(service)) else "PORT"
        port = env_int(env, port_key, 0)
        if port > 65535:
            raise SettingsError(port_key, str(port), "a port number up to 65535")
        level = (env_str(env, "EVP_LOG_LEVEL", "INFO") or "INFO").upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise SettingsError("EVP_LOG_LEVEL", level, "DEBUG, INFO, WARNING or ERROR")
        return cls(
            service=service,
            database=ServiceDatabase.from_env(service, env),
            messaging=MessagingSettings.from_env(env, platform=platform),
            host=env_str(env, "EVP_HOST", "127.0.0.1") or "127.0.0.1",
            port=port,
            jwks_url=env_str(env, "EVP_JWKS_URL"),
            token_issuer=env_str(env, "EVP_TOKEN_ISSUER", DEFAULT_TOKEN_ISSUER)
            or DEFAULT_TOKEN_ISSUER,
            token_audience=env_str(env, "EVP_TOKEN_AUDIENCE", DEFAULT_TOKEN_AUDIENCE)
            or DEFAULT_TOKEN_AUDIENCE,
            max_body_bytes=env_int(env, "EVP_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, minimum=1),
            log_level=level,
            readiness_timeout=env_float(env, "EVP_READINESS_TIMEOUT_S", 2.0),
        )

    def replace(self, **changes: object) -> ServiceSettings:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
