"""Typed settings: embedded defaults when absent, a named error when malformed."""

from __future__ import annotations

from pathlib import Path

import pytest

from evp.settings import PlatformSettings, SchemaMode, SettingsError, env_bool, env_int


def test_absent_settings_mean_embedded_infrastructure() -> None:
    """With nothing set, Kafka and the registry are embedded and mode is strict."""
    settings = PlatformSettings.from_env({})
    assert settings.kafka_bootstrap_servers is None
    assert settings.schema_registry_url is None
    assert settings.data_dir == Path(".evp")
    assert settings.schema_mode is SchemaMode.STRICT


def test_present_settings_are_used() -> None:
    """Values from the environment replace the defaults."""
    settings = PlatformSettings.from_env(
        {"KAFKA_BOOTSTRAP_SERVERS": "k:9092", "EVP_SCHEMA_MODE": "Development"}
    )
    assert settings.kafka_bootstrap_servers == "k:9092"
    assert settings.schema_mode is SchemaMode.DEVELOPMENT


def test_malformed_mode_names_the_variable() -> None:
    """An unknown schema mode fails fast naming the key and the choices."""
    with pytest.raises(SettingsError, match="EVP_SCHEMA_MODE='lax' is invalid") as raised:
        PlatformSettings.from_env({"EVP_SCHEMA_MODE": "lax"})
    assert raised.value.key == "EVP_SCHEMA_MODE"
    assert "strict or development" in str(raised.value)


def test_integer_below_minimum_is_refused() -> None:
    """Bounds are checked, not just the type."""
    with pytest.raises(SettingsError, match=">= 1"):
        env_int({"N": "0"}, "N", 5, minimum=1)


def test_booleans_accept_common_spellings() -> None:
    """yes/no, on/off, 1/0 and true/false are all understood."""
    assert env_bool({"B": "Yes"}, "B", False) is True
    assert env_bool({"B": "off"}, "B", True) is False
    with pytest.raises(SettingsError):
        env_bool({"B": "maybe"}, "B", True)
