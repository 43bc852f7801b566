"""Topic names and making sure topics exist."""

from __future__ import annotations

from evp.events import OrderPlaced
from evp.messaging import MessagingSettings, TopicNames
from evp.messaging.config import admin_config
from evp.messaging.topics import TopicAdmin


def test_topic_names_carry_the_prefix() -> None:
    """An event's topic is the deployment's prefix and the catalog's topic."""
    names = TopicNames("staging.")
    assert names.of(OrderPlaced) == "staging.orders"
    assert names.dead_letter(names.of(OrderPlaced)) == "staging.orders.dlq"


def test_ensure_creates_missing_topics(messaging_settings: MessagingSettings) -> None:
    """Topics that do not exist are created (through the admin API or on request)."""
    admin = TopicAdmin(
        admin_config(
            messaging_settings,
            bootstrap_servers=str(messaging_settings.bootstrap_servers),
            client_id="t",
        )
    )
    topic = messaging_settings.topic_prefix + "fresh"
    admin.ensure([topic])
    assert admin.partitions(topic)


def test_ensuring_an_existing_topic_changes_nothing(messaging_settings: MessagingSettings) -> None:
    """Ensuring a topic twice (from two admins) keeps its partitions."""
    config = admin_config(
        messaging_settings,
        bootstrap_servers=str(messaging_settings.bootstrap_servers),
        client_id="t",
    )
    topic = messaging_settings.topic_prefix + "twice"
    TopicAdmin(config).ensure([topic])
    before = TopicAdmin(config).partitions(topic)
    TopicAdmin(config).ensure([topic])
    assert TopicAdmin(config).partitions(topic) == before
