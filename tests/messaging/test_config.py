"""Messaging settings from the environment, and the client configurations built from them."""

from __future__ import annotations

import pytest

from evp.credentials import BasicCredentials, Secret
from evp.messaging import GroupProtocol, MessagingSettings
from evp.messaging.config import (
    DEFAULT_REGISTRY_URL,
    admin_config,
    consumer_config,
    producer_config,
)
from evp.settings import SchemaMode, SettingsError


def test_defaults_apply_when_nothing_is_set() -> None:
    """An empty environment means the embedded broker, the local registry and strict mode."""
    settings = MessagingSettings.from_env({})
    assert settings.bootstrap_servers is None
    assert settings.schema_registry_url == DEFAULT_REGISTRY_URL
    assert settings.schema_mode is SchemaMode.STRICT
    assert settings.topic_prefix == ""


def test_environment_sets_the_platform_and_messaging_values() -> None:
    """Variables set the bootstrap servers, registry, mode, prefix and group protocol."""
    settings = MessagingSettings.from_env(
        {
            "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
            "SCHEMA_REGISTRY_URL": "http://registry:8081",
            "EVP_SCHEMA_MODE": "development",
            "EVP_TOPIC_PREFIX": "staging.",
            "EVP_KAFKA_GROUP_PROTOCOL": "consumer",
            "EVP_HANDLER_RETRIES": "5",
        }
    )
    assert settings.bootstrap_servers == "kafka:9092"
    assert settings.schema_registry_url == "http://registry:8081"
    assert settings.schema_mode is SchemaMode.DEVELOPMENT
    assert settings.topic_prefix == "staging."
    assert settings.group_protocol is GroupProtocol.CONSUMER
    assert settings.handler_retries == 5


def test_a_malformed_variable_fails_naming_it() -> None:
    """A value that is not a number fails fast with the variable's name."""
    with pytest.raises(SettingsError, match="EVP_HANDLER_RETRIES"):
        MessagingSettings.from_env({"EVP_HANDLER_RETRIES": "many"})


def test_client_properties_pass_through_to_every_client() -> None:
    """KAFKA_CLIENT_* variables become librdkafka properties of producers and consumers."""
    settings = MessagingSettings.from_env({"KAFKA_CLIENT_SECURITY_PROTOCOL": "SASL_SSL"})
    for config in (
        producer_config(settings, bootstrap_servers="k:9092", client_id="c"),
        admin_config(settings, bootstrap_servers="k:9092", client_id="c"),
        consumer_config(
            settings,
            bootstrap_servers="k:9092",
            group="g",
            client_id="c",
            protocol=GroupProtocol.CLASSIC,
        ),
    ):
        assert config["security.protocol"] == "SASL_SSL"


def test_producer_is_idempotent_with_acks_all() -> None:
    """Producers are idempotent and wait for all in-sync replicas."""
    config = producer_config(MessagingSettings(None), bootstrap_servers="k:9092", client_id="c")
    assert config["enable.idempotence"] is True
    assert config["acks"] == "all"


def test_consumer_commits_only_when_told_and_backs_off_briefly() -> None:
    """Consumers neither commit nor store offsets themselves, and refill their queue quickly."""
    config = consumer_config(
        MessagingSettings(None),
        bootstrap_servers="k:9092",
        group="g",
        client_id="c",
        protocol=GroupProtocol.CLASSIC,
    )
    assert config["enable.auto.commit"] is False
    assert config["enable.auto.offset.store"] is False
    assert config["fetch.queue.backoff.ms"] <= 100
    assert config["partition.assignment.strategy"] == "cooperative-sticky"


def test_group_protocol_defaults_to_kip848_only_on_the_embedded_broker() -> None:
    """Without a setting, KIP-848 is used on the embedded broker and classic elsewhere."""
    settings = MessagingSettings(None)
    assert settings.protocol_for(embedded=True) is GroupProtocol.CONSUMER
    assert settings.protocol_for(embedded=False) is GroupProtocol.CLASSIC


def _fetch_wait(settings: MessagingSettings, *, embedded: bool) -> object:
    config = consumer_config(
        settings,
        bootstrap_servers="k:9092",
        group="g",
        client_id="c",
        protocol=GroupProtocol.CLASSIC,
        embedded=embedded,
    )
    return config["fetch.wait.max.ms"]


def test_a_fetch_waits_briefly_only_on_the_embedded_broker() -> None:
    """The embedded broker holds a fetch for its whole wait, so its consumers wait 50 ms;
    a real broker answers as data arrives, so theirs wait 100 ms."""
    settings = MessagingSettings(None)
    assert _fetch_wait(settings, embedded=True) == 50
    assert _fetch_wait(settings, embedded=False) == 100


def test_a_fetch_wait_set_applies_on_any_broker() -> None:
    """An explicit fetch wait wins on both kinds of cluster."""
    settings = MessagingSettings(None, fetch_wait_max_ms=7)
    assert _fetch_wait(settings, embedded=True) == _fetch_wait(settings, embedded=False) == 7


def test_registry_credentials_pass_from_the_platform_settings() -> None:
    """SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO reaches the messaging settings, the URL bare."""
    settings = MessagingSettings.from_env(
        {
            "SCHEMA_REGISTRY_URL": "https://registry:8081",
            "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO": "ci:s3cret",
        }
    )
    assert settings.schema_registry_url == "https://registry:8081"
    assert settings.schema_registry_credentials == BasicCredentials("ci", Secret("s3cret"))
    assert "s3cret" not in repr(settings)


def test_a_registry_url_given_later_loses_its_credentials_to_the_settings() -> None:
    """replace() with a URL holding user:password@ (a --registry flag) moves them out too."""
    settings = MessagingSettings(None).replace(schema_registry_url="http://ci:s3cret@r:8081")
    assert settings.schema_registry_url == "http://r:8081"
    assert settings.schema_registry_credentials == BasicCredentials("ci", Secret("s3cret"))


def test_the_fetch_wait_is_read_from_the_environment() -> None:
    """EVP_KAFKA_FETCH_WAIT_MS sets the fetch wait; unset, the cluster's kind decides."""
    assert MessagingSettings.from_env({"EVP_KAFKA_FETCH_WAIT_MS": "30"}).fetch_wait_max_ms == 30
    assert MessagingSettings.from_env({}).fetch_wait_max_ms is None
