"""Typed messaging settings, read once, and the librdkafka client configurations built from them.

The defaults are chosen for the runtime's guarantees, not for librdkafka's: an idempotent
producer with ``acks=all`` (per-partition order survives retries), consumers that commit
only what the runtime tells them to, and a short ``fetch.queue.backoff.ms`` (librdkafka's
1000 ms default stalls a consumer about a second whenever its queue ran dry).
"""

from __future__ import annotations

import dataclasses
import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from evp.credentials import BasicCredentials, split_credentials
from evp.settings import PlatformSettings, SchemaMode, env_choice, env_float, env_int, env_str

__all__ = [
    "DEFAULT_REGISTRY_URL",
    "EMBEDDED_FETCH_WAIT_MS",
    "GroupProtocol",
    "MessagingSettings",
    "admin_config",
    "consumer_config",
    "producer_config",
]

# Where `evp registry serve` listens when given no --port.
DEFAULT_REGISTRY_URL = "http://127.0.0.1:8081"
# Environment variables with this prefix pass librdkafka properties through, for what the
# settings do not model (security.protocol, sasl.*, ssl.*): KAFKA_CLIENT_SASL_MECHANISM=PLAIN.
CLIENT_PROPERTY_PREFIX = "KAFKA_CLIENT_"
_FETCH_WAIT_MS = 100
EMBEDDED_FETCH_WAIT_MS = 50
"""The fetch wait on the embedded broker (see ``MessagingSettings.fetch_wait_max_ms``)."""

Config = dict[str, Any]


class GroupProtocol(enum.Enum):
    """How consumers of a group agree on who reads which partition."""

    CLASSIC = "classic"
    """Join/sync rebalances (every Kafka version); the runtime uses cooperative-sticky."""
    CONSUMER = "consumer"
    """KIP-848 server-side assignment (Kafka >= 4.0, and the embedded broker): faster joins."""


@dataclass(frozen=True)
class MessagingSettings:
    """Everything the event runtime reads from the environment, resolved once at start-up."""

    bootstrap_servers: str | None
    """Kafka's bootstrap address; ``None`` starts the embedded broker in this process."""
    schema_registry_url: str = DEFAULT_REGISTRY_URL
    """Never holds credentials: a ``user:password@`` given in it moves to the next field."""
    schema_registry_credentials: BasicCredentials | None = None
    """Basic-auth credentials for the registry (``SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO``)."""
    schema_mode: SchemaMode = SchemaMode.STRICT
    topic_prefix: str = ""
    """Put before every topic name, so that test runs and tenants do not share topics."""
    group_protocol: GroupProtocol | None = None
    """``None``: KIP-848 on the embedded broker, classic on any other cluster."""
    handler_retries: int = 3
    """How often a failing handler is retried before its message is dead-lettered."""
    retry_backoff: float = 0.1
    """Seconds before the first retry; each further retry waits twice as long."""
    retry_backoff_max: float = 5.0
    handler_timeout: float = 30.0
    """Seconds one handler attempt may run before it is cut off and counts as failed."""
    shutdown_timeout: float = 10.0
    """Seconds running handlers get to finish when the bus stops before being cut off."""
    close_timeout: float = 30.0
    """Seconds a consumer gets to commit and leave its group at stop before it is left
    behind (what it did not commit is redelivered)."""
    max_in_flight: int = 1000
    """Messages a consumer holds fetched but not yet handled; it stops fetching beyond this."""
    commit_interval: float = 0.2
    """Seconds between commits of handled offsets (also made at every rebalance and stop);
    after a crash, the group handles at most this long's worth of events again."""
    linger_ms: int = 1
    """How long the producer waits to fill a batch. librdkafka's 5 ms default would cap a
    handler that awaits each publish at 200 a second; under load batches fill anyway, as
    messages queue behind the requests in flight."""
    delivery_timeout_ms: int = 30_000
    fetch_wait_max_ms: int | None = None
    """How long a fetch waits for data (``EVP_KAFKA_FETCH_WAIT_MS``). ``None``: 100 ms on a
    real cluster, whose broker answers as soon as data arrives; 50 ms on the embedded
    broker, which holds every fetch for its whole wait, so each hop of a flow waits about
    half of it (measured by the saga bench: 20 ms cut p99 further but cost a fifth of the
    throughput in idle fetching, 100 ms doubled the p99)."""
    fetch_queue_backoff_ms: int = 10
    session_timeout_ms: int | None = None
    heartbeat_interval_ms: int | None = None
    client_properties: Mapping[str, str] = field(default_factory=dict)
    """Extra librdkafka properties applied to every client, last (they win)."""

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, platform: PlatformSettings | None = None
    ) -> MessagingSettings:
        """Read the settings; a malformed variable raises :class:`~evp.settings.SettingsError`."""
        env = os.environ if environ is None else environ
        base = platform or PlatformSettings.from_env(env)
        protocol = env_str(env, "EVP_KAFKA_GROUP_PROTOCOL")
        return cls(
            bootstrap_servers=base.kafka_bootstrap_servers,
            schema_registry_url=base.schema_registry_url or DEFAULT_REGISTRY_URL,
            schema_registry_credentials=base.schema_registry_credentials,
            schema_mode=base.schema_mode,
            topic_prefix=env_str(env, "EVP_TOPIC_PREFIX", "") or "",
            group_protocol=None
            if protocol is None
            else env_choice(env, "EVP_KAFKA_GROUP_PROTOCOL", GroupProtocol, GroupProtocol.CLASSIC),
            handler_retries=env_int(env, "EVP_HANDLER_RETRIES", 3),
            retry_backoff=env_float(env, "EVP_RETRY_BACKOFF_S", 0.1),
            handler_timeout=env_float(env, "EVP_HANDLER_TIMEOUT_S", 30.0),
            shutdown_timeout=env_float(env, "EVP_SHUTDOWN_TIMEOUT_S", 10.0),
            close_timeout=env_float(env, "EVP_CLOSE_TIMEOUT_S", 30.0),
            max_in_flight=env_int(env, "EVP_MAX_IN_FLIGHT", 1000, minimum=1),
            commit_interval=env_float(env, "EVP_COMMIT_INTERVAL_S", 0.2),
            fetch_wait_max_ms=_optional_int(env, "EVP_KAFKA_FETCH_WAIT_MS"),
            session_timeout_ms=_optional_int(env, "EVP_KAFKA_SESSION_TIMEOUT_MS"),
            heartbeat_interval_ms=_optional_int(env, "EVP_KAFKA_HEARTBEAT_INTERVAL_MS"),
            client_properties=_client_properties(env),
        )

    def __post_init__(self) -> None:
        # Wherever the URL came from (a --registry flag, a test), credentials in it move out
        # of it here, so that every error and log line can name the URL as it is.
        url, in_url = split_credentials(self.schema_registry_url)
        if in_url is not None or url != self.schema_registry_url:
            object.__setattr__(self, "schema_registry_url", url)
        if in_url is not None and self.schema_registry_credentials is None:
            object.__setattr__(self, "schema_registry_credentials", in_url)

    def replace(self, **changes: Any) -> MessagingSettings:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)

    def fetch_wait_for(self, *, embedded: bool) -> int:
        """The ``fetch.wait.max.ms`` to use on the cluster at hand (see the field)."""
        if self.fetch_wait_max_ms is not None:
            return self.fetch_wait_max_ms
        return EMBEDDED_FETCH_WAIT_MS if embedded else _FETCH_WAIT_MS

    def protocol_for(self, *, embedded: bool) -> GroupProtocol:
        """The group protocol to use on the cluster at hand."""
        if self.group_protocol is not None:
            return self.group_protocol
        return GroupProtocol.CONSUMER if embedded else GroupProtocol.CLASSIC


def producer_config(
    settings: MessagingSettings, *, bootstrap_servers: str, client_id: str
) -> Config:
    """An idempotent producer: ``acks=all``, in-order retries, bounded delivery time."""
    config: Config = {
        "bootstrap.servers": bootstrap_servers,
        "client.id": client_id,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": settings.linger_ms,
        "delivery.timeout.ms": settings.delivery_timeout_ms,
        # Report every delivery, including successes, so each publish can be confirmed.
        "delivery.report.only.error": False,
    }
    return _finish(config, settings)


def consumer_config(
    settings: MessagingSettings,
    *,
    bootstrap_servers: str,
    group: str,
    client_id: str,
    protocol: GroupProtocol,
    embedded: bool = False,
) -> Config:
    """A group member that commits only what the runtime has finished with."""
    config: Config = {
        "bootstrap.servers": bootstrap_servers,
        "client.id": client_id,
        "group.id": group,
        # Offsets are committed by the runtime after the handler succeeded or the dead
        # letter was confirmed; librdkafka must neither commit nor store them by itself.
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        # A new group reads a topic from its start: events written before the first
        # deployment of a consumer are not skipped.
        "auto.offset.reset": "earliest",
        "fetch.wait.max.ms": settings.fetch_wait_for(embedded=embedded),
        "fetch.queue.backoff.ms": settings.fetch_queue_backoff_ms,
    }
    if protocol is GroupProtocol.CONSUMER:
        # Session and heartbeat times are the broker's business under KIP-848.
        config["group.protocol"] = "consumer"
    else:
        config["partition.assignment.strategy"] = "cooperative-sticky"
        if settings.session_timeout_ms is not None:
            config["session.timeout.ms"] = settings.session_timeout_ms
        if settings.heartbeat_interval_ms is not None:
            config["heartbeat.interval.ms"] = settings.heartbeat_interval_ms
    return _finish(config, settings)


def admin_config(settings: MessagingSettings, *, bootstrap_servers: str, client_id: str) -> Config:
    """An admin client for creating topics and reading metadata."""
    return _finish({"bootstrap.servers": bootstrap_servers, "client.id": client_id}, settings)


def _finish(config: Config, settings: MessagingSettings) -> Config:
    config.update(settings.client_properties)
    return config


def _optional_int(environ: Mapping[str, str], key: str) -> int | None:
    return None if env_str(environ, key) is None else env_int(environ, key, 0, minimum=1)


def _client_properties(environ: Mapping[str, str]) -> dict[str, str]:
    return {
        key[len(CLIENT_PROPERTY_PREFIX) :].lower().replace("_", "."): value
        for key, value in environ.items()
        if key.startswith(CLIENT_PROPERTY_PREFIX) and value
    }
