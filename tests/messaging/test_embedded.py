"""The embedded broker, in process and as `evp broker`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid

import pytest
from confluent_kafka import Producer

from evp.messaging import BrokerError, EmbeddedKafka

from .probes import topic_messages


def _produce(bootstrap_servers: str, topic: str, value: bytes) -> None:
    producer = Producer({"bootstrap.servers": bootstrap_servers, "log_level": 3})
    producer.produce(topic, value)
    assert producer.flush(10) == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_clients_produce_and_consume_through_the_bootstrap_address() -> None:
    """A client given the embedded broker's address writes and reads back a message."""
    topic = f"embedded-{uuid.uuid4().hex}"
    with EmbeddedKafka(brokers=2) as kafka:
        _produce(kafka.bootstrap_servers, topic, b"hello")
        assert [m.value() for m in topic_messages(kafka.bootstrap_servers, topic)] == [b"hello"]


def test_a_fixed_port_reaches_the_cluster() -> None:
    """With a port, clients bootstrap from it and reach the brokers."""
    port = _free_port()
    topic = f"embedded-{uuid.uuid4().hex}"
    with EmbeddedKafka(port=port) as kafka:
        assert kafka.bootstrap_servers == f"127.0.0.1:{port}"
        _produce(kafka.bootstrap_servers, topic, b"via the fixed port")
        assert len(topic_messages(kafka.bootstrap_servers, topic)) == 1


def test_the_address_of_a_stopped_broker_is_refused() -> None:
    """Asking a broker that is not running for its address raises."""
    with pytest.raises(BrokerError):
        _ = EmbeddedKafka().bootstrap_servers


def test_evp_broker_prints_its_address_and_stops_on_sigterm() -> None:
    """`evp broker --port P` prints a working address and exits cleanly when terminated."""
    port = _free_port()
    command = [sys.executable, "-m", "evp", "broker", "--port", str(port)]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy()
    ) as broker:
        assert broker.stdout is not None
        address = broker.stdout.readline().strip()
        topic = f"cli-{uuid.uuid4().hex}"
        _produce(address, topic, b"x")
        broker.send_signal(signal.SIGTERM)
        assert broker.wait(10) == 0
    assert address == f"127.0.0.1:{port}"
