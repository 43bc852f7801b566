"""The environment in which ``evp up`` starts every part itself, with data in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["CONFIGURED", "embedded_environment"]

CONFIGURED = (
    "KAFKA_BOOTSTRAP_SERVERS",
    "SCHEMA_REGISTRY_URL",
    "EVP_REGISTRY_DATABASE_URL",
    "NOTIFICATIONS_SMTP_HOST",
    "EVP_ADMIN_PASSWORD",
    "USERS_ADMIN_PASSWORD",
)
"""What would make ``evp up`` use something other than what it starts itself (with every
``*_DATABASE_URL``)."""


def embedded_environment(
    data_dir: Path, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``environ`` (the process's) without what configures parts, data in ``data_dir``."""
    env = {
        key: value
        for key, value in (os.environ if environ is None else environ).items()
        if key not in CONFIGURED and not key.endswith("_DATABASE_URL")
    }
    env["EVP_DATA_DIR"] = str(data_dir)
    return env
