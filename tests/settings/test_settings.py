"""Typed settings: embedded defaults when absent, a named error when malformed."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from evp.credentials import BasicCredentials, Secret
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


def test_registry_credentials_come_from_the_user_info_setting(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO is read as user and secret, and never logged."""
    caplog.set_level(logging.DEBUG)
    settings = PlatformSettings.from_env(
        {
            "SCHEMA_REGISTRY_URL": "https://registry:8081",
            "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO": "ci:s3cret",
        }
    )
    credentials = settings.schema_registry_credentials
    assert credentials is not None
    assert (credentials.user, credentials.password.reveal()) == ("ci", "s3cret")
    assert "s3cret" not in repr(settings)
    assert "s3cret" not in caplog.text


def test_registry_credentials_in_the_url_move_out_of_it() -> None:
    """A URL with user:password@ becomes the URL without it plus the credentials."""
    settings = PlatformSettings.from_env({"SCHEMA_REGISTRY_URL": "https://ci:s3cret@registry"})
    assert settings.schema_registry_url == "https://registry"
    assert settings.schema_registry_credentials == BasicCredentials("ci", Secret("s3cret"))


def test_registry_user_info_setting_wins_over_the_url() -> None:
    """Credentials given both ways: the setting's are used, and the URL holds neither."""
    settings = PlatformSettings.from_env(
        {
            "SCHEMA_REGISTRY_URL": "https://old:stale@registry",
            "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO": "ci:s3cret",
        }
    )
    assert settings.schema_registry_url == "https://registry"
    assert settings.schema_registry_credentials == BasicCredentials("ci", Secret("s3cret"))


def test_malformed_registry_user_info_names_the_variable_but_not_the_value() -> None:
    """A user info without a colon fails fast, without printing what it holds."""
    key = "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO"
    with pytest.raises(SettingsError, match="expected user:password") as raised:
        PlatformSettings.from_env({key: "s3cret"})
    assert raised.value.key == key
    assert "s3cret" not in str(raised.value)
