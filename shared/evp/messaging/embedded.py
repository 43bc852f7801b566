"""The embedded broker: librdkafka's mock cluster, for development and tests.

A client configured with ``test.mock.num.brokers`` starts an in-process Kafka-protocol
cluster; it lives as long as that client. :class:`EmbeddedKafka` keeps such a client open
and answers the brokers' bootstrap address, which any Kafka client (in this process or
another) can use. Its limits, which the runtime never relies on: data is in memory only,
about 5 MiB is kept per partition, there is no CreateTopics (topics are created on first
use with 4 partitions), and it listens on random ports. For a fixed port, a small TCP
forwarder listens there and relays to the first broker; clients learn the other brokers'
real addresses from its metadata, as with any Kafka cluster.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType
from typing import Self

from confluent_kafka import KafkaException, Producer

from evp.messaging.errors import BrokerError

__all__ = ["EmbeddedKafka", "shared_embedded_kafka"]

_START_TIMEOUT_S = 10.0


class EmbeddedKafka:
    """An in-process Kafka cluster of ``brokers`` brokers, from :meth:`start` to :meth:`stop`."""

    def __init__(
        self, *, brokers: int = 1, port: int | None = None, host: str = "127.0.0.1"
    ) -> None:
        if brokers < 1:
            raise ValueError(f"an embedded cluster needs at least one broker, not {brokers}")
        self.brokers = brokers
        self._port = port
        self._host = host
        self._holder: Producer | None = None
        self._broker_addresses: list[str] = []
        self._forwarder: _Forwarder | None = None

    @property
    def bootstrap_servers(self) -> str:
        """The address clients bootstrap from (``host:port,...``)."""
        if self._holder is None:
            raise BrokerError("the embedded broker is not running", operation="bootstrap")
        if self._forwarder is not None:
            return self._forwarder.address
        return ",".join(self._broker_addresses)

    def start(self) -> Self:
        """Start the cluster (and the forwarder, given a port); returns ``self``."""
        if self._holder is not None:
            return self
        # Log level 4 (warning) hides librdkafka's notice that the mock cluster is enabled.
        holder = Producer(
            {
                "test.mock.num.brokers": self.brokers,
                "client.id": "evp-embedded-kafka",
                "log_level": 4,
            }
        )
        try:
            metadata = holder.list_topics(timeout=_START_TIMEOUT_S)
        except KafkaException as error:
            raise BrokerError(
                str(error.args[0]), operation="starting the embedded broker"
            ) from error
        self._broker_addresses = [
            f"{broker.host}:{broker.port}" for _, broker in sorted(metadata.brokers.items())
        ]
        self._holder = holder
        if self._port is not None:
            first_host, first_port = self._broker_addresses[0].rsplit(":", 1)
            self._forwarder = _Forwarder(self._host, self._port, (first_host, int(first_port)))
            self._forwarder.start()
        return self

    def stop(self) -> None:
        """Stop the cluster; its data is gone."""
        if self._forwarder is not None:
            self._forwarder.stop()
            self._forwarder = None
        # Dropping the last reference destroys the client and with it the mock cluster.
        self._holder = None
        self._broker_addresses = []

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


_shared: list[EmbeddedKafka] = []
_shared_lock = threading.Lock()


def shared_embedded_kafka() -> EmbeddedKafka:
    """The process's embedded broker, started on first use and kept for the process's life.

    Every bus of a process that has no ``KAFKA_BOOTSTRAP_SERVERS`` uses this one, so
    services running side by side (the demo, tests) talk to each other.
    """
    with _shared_lock:
        if not _shared:
            _shared.append(EmbeddedKafka().start())
        return _shared[0]


class _Forwarder:
    """Relays TCP connections from a fixed port to one address, a thread pair per connection."""

    def __init__(self, host: str, port: int, target: tuple[str, int]) -> None:
        self._target = target
        self._server = socket.create_server((host, port), reuse_port=False)
        self._server.settimeout(0.2)
        bound_host, bound_port = self._server.getsockname()[:2]
        self.address = f"{bound_host}:{bound_port}"
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._accept, name="evp-broker-forwarder", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()
        self._server.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self._target)
            except OSError:
                client.close()
                continue
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(
                    target=_pump, args=(source, sink), name="evp-broker-relay", daemon=True
                ).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        # Either side closing ends both directions; each pump closes the socket it reads.
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
        source.close()
