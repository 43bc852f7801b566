"""Server settings read from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from evp.registry.auth import Role
from evp.registry.errors import InvalidSettingError
from evp.registry.settings import DEFAULT_DATA_DIR, RegistrySettings
from evp.schema.compatibility import CompatibilityLevel


def test_defaults_apply_when_nothing_is_set() -> None:
    """An empty environment gives localhost:8081 on an embedded Postgres, without auth."""
    settings = RegistrySettings.from_env({})
    assert (settings.host, settings.port, settings.database_url) == ("127.0.0.1", 8081, None)
    assert (settings.data_dir, settings.users) == (DEFAULT_DATA_DIR, ())


def test_variables_override_the_defaults() -> None:
    """EVP_REGISTRY_* variables set host, port, storage and users."""
    settings = RegistrySettings.from_env(
        {
            "EVP_REGISTRY_HOST": "0.0.0.0",
            "EVP_REGISTRY_PORT": "9000",
            "EVP_REGISTRY_DATA_DIR": "/var/lib/registry",
            "EVP_REGISTRY_USERS": "admin:pw",
            "EVP_REGISTRY_READ_ONLY_USERS": "ci:pw2,dash:pw3",
        }
    )
    assert (settings.host, settings.port, settings.data_dir) == (
        "0.0.0.0",
        9000,
        Path("/var/lib/registry"),
    )
    assert [(u.name, u.role) for u in settings.users] == [
        ("admin", Role.READ_WRITE),
        ("ci", Role.READ_ONLY),
        ("dash", Role.READ_ONLY),
    ]


def test_a_bad_port_names_the_variable() -> None:
    """A port that is not a number fails fast, naming EVP_REGISTRY_PORT."""
    with pytest.raises(InvalidSettingError) as raised:
        RegistrySettings.from_env({"EVP_REGISTRY_PORT": "http"})
    assert raised.value.key == "EVP_REGISTRY_PORT"


@pytest.mark.parametrize(("value", "logged"), [("false", False), ("TRUE", True)])
def test_the_access_log_can_be_turned_off(value: str, logged: bool) -> None:
    """EVP_REGISTRY_ACCESS_LOG turns the line per request off or on; it is on by default."""
    assert RegistrySettings.from_env({}).access_log
    assert RegistrySettings.from_env({"EVP_REGISTRY_ACCESS_LOG": value}).access_log is logged


def test_a_bad_access_log_flag_names_the_variable() -> None:
    """An access-log flag that is neither true nor false fails fast, naming the variable."""
    with pytest.raises(InvalidSettingError) as raised:
        RegistrySettings.from_env({"EVP_REGISTRY_ACCESS_LOG": "sometimes"})
    assert raised.value.key == "EVP_REGISTRY_ACCESS_LOG"


def test_a_bad_user_spec_is_a_setting_error() -> None:
    """A user without a password fails fast as an invalid setting."""
    with pytest.raises(InvalidSettingError):
        RegistrySettings.from_env({"EVP_REGISTRY_USERS": "admin"})


def test_passwords_stay_out_of_the_settings_repr() -> None:
    """repr(settings) does not show users' passwords."""
    settings = RegistrySettings.from_env({"EVP_REGISTRY_USERS": "admin:hunter2"})
    assert "hunter2" not in repr(settings)


def test_the_default_compatibility_is_backward() -> None:
    """Without EVP_REGISTRY_COMPATIBILITY the default level is BACKWARD."""
    assert RegistrySettings.from_env({}).compatibility is CompatibilityLevel.BACKWARD


def test_the_default_compatibility_comes_from_the_environment() -> None:
    """EVP_REGISTRY_COMPATIBILITY sets the default level, in any case."""
    settings = RegistrySettings.from_env({"EVP_REGISTRY_COMPATIBILITY": "full_transitive"})
    assert settings.compatibility is CompatibilityLevel.FULL_TRANSITIVE


def test_an_unknown_default_compatibility_names_the_variable() -> None:
    """An unknown level fails at start-up naming EVP_REGISTRY_COMPATIBILITY."""
    with pytest.raises(InvalidSettingError) as raised:
        RegistrySettings.from_env({"EVP_REGISTRY_COMPATIBILITY": "SIDEWAYS"})
    assert raised.value.key == "EVP_REGISTRY_COMPATIBILITY"
