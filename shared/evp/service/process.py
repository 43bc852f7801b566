"""A service as a process of its own (``evp serve``): the line it announces itself with,
and the environment it reads its settings from.

``evp up`` supervises such processes (:mod:`evp.up.child`); the line is how it learns
where each one listens.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from evp.eventstore.database import database_url_variable
from evp.messaging.config import MessagingSettings

__all__ = ["LISTENING", "listening_line", "service_environment"]

LISTENING = re.compile(r"evp serve: (?P<name>\S+) listening on (?P<address>http://\S+)")
"""The line ``evp serve`` prints once the service is ready; ``address`` is its base URL."""


def listening_line(service: str, url: str) -> str:
    """The line ``evp serve`` prints for ``service`` ready at ``url`` (:data:`LISTENING`)."""
    return f"evp serve: {service} listening on {url}"


def service_environment(
    service: str,
    *,
    database_url: str,
    messaging: MessagingSettings,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment ``evp serve SERVICE`` reads the given settings from."""
    env = dict(os.environ)
    env.update(
        {
            database_url_variable(service): database_url,
            "SCHEMA_REGISTRY_URL": messaging.schema_registry_url,
            "EVP_TOPIC_PREFIX": messaging.topic_prefix,
            "EVP_SCHEMA_MODE": messaging.schema_mode.value,
        }
    )
    if messaging.bootstrap_servers is not None:
        env["KAFKA_BOOTSTRAP_SERVERS"] = messaging.bootstrap_servers
    if messaging.schema_registry_credentials is not None:
        env["SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO"] = (
            messaging.schema_registry_credentials.user_info()
        )
    env.update(extra or {})
    return env
