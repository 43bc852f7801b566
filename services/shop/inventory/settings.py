"""The inventory's own settings, read once from ``INVENTORY_*`` variables at start-up."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

from evp.service import ServiceRuntime
from evp.settings import SettingsError, env_float

__all__ = ["InventorySettings", "settings_of"]

_INTERVAL = "INVENTORY_EXPIRY_INTERVAL_S"


@dataclasses.dataclass(frozen=True)
class InventorySettings:
    """How long a hold lasts and how often expired holds are looked for."""

    hold_ttl_s: float = 900.0
    """Seconds a hold lasts when the order's saga does not finish (``INVENTORY_HOLD_TTL_S``)."""
    expiry_interval_s: float = 1.0
    """Seconds between two looks for expired holds (``INVENTORY_EXPIRY_INTERVAL_S``)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> InventorySettings:
        """The settings from ``environ`` (the process environment by default)."""
        env = os.environ if environ is None else environ
        interval = env_float(env, _INTERVAL, cls.expiry_interval_s)
        if interval <= 0:
            # Zero would make the expiry task spin on the database.
            raise SettingsError(_INTERVAL, env.get(_INTERVAL, ""), "a number > 0")
        return cls(
            hold_ttl_s=env_float(env, "INVENTORY_HOLD_TTL_S", cls.hold_ttl_s),
            expiry_interval_s=interval,
        )


def settings_of(runtime: ServiceRuntime) -> InventorySettings:
    """The settings the start-up hook keeps in ``runtime.state``."""
    settings = runtime.state.get("settings")
    if not isinstance(settings, InventorySettings):
        raise RuntimeError("the inventory's settings are not loaded (start-up hook not run)")
    return settings
