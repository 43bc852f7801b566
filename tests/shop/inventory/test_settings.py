"""The inventory's settings: defaults, variables, and errors naming a bad variable."""

from __future__ import annotations

import pytest

from evp.service import ServiceStartError
from evp.settings import SettingsError
from shop.inventory.settings import InventorySettings
from tests.shop.inventory.conftest import StartInventory


def test_without_variables_the_defaults_apply() -> None:
    """A hold lasts 15 minutes and expired holds are looked for every second."""
    assert InventorySettings.from_env({}) == InventorySettings(900.0, 1.0)


def test_variables_set_the_hold_ttl_and_the_expiry_interval() -> None:
    """INVENTORY_HOLD_TTL_S and INVENTORY_EXPIRY_INTERVAL_S are read as seconds."""
    settings = InventorySettings.from_env(
        {"INVENTORY_HOLD_TTL_S": "60", "INVENTORY_EXPIRY_INTERVAL_S": "0.5"}
    )
    assert (settings.hold_ttl_s, settings.expiry_interval_s) == (60.0, 0.5)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("INVENTORY_HOLD_TTL_S", "soon"),
        ("INVENTORY_HOLD_TTL_S", "-1"),
        ("INVENTORY_EXPIRY_INTERVAL_S", "0"),
    ],
)
def test_a_bad_variable_is_named(key: str, value: str) -> None:
    """A value that is not a usable number of seconds fails naming its variable."""
    with pytest.raises(SettingsError) as raised:
        InventorySettings.from_env({key: value})
    assert raised.value.key == key


async def test_the_service_does_not_start_with_a_bad_setting(
    inventory: StartInventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bad INVENTORY_* variable stops the start-up, naming the variable."""
    monkeypatch.setenv("INVENTORY_HOLD_TTL_S", "soon")
    with pytest.raises(ServiceStartError, match="INVENTORY_HOLD_TTL_S"):
        async with inventory(assigned=False):
            pass
