"""An embedded Kafka that a test can take down and bring back: librdkafka's mock cluster,
driven through its C API.

confluent-kafka does not expose the mock cluster's controls, but the librdkafka it bundles
exports them (``rdkafka_mock.h``). This module creates a client of its own through that
library with ``test.mock.num.brokers`` set, which starts a mock cluster exactly as
:class:`evp.messaging.EmbeddedKafka` does, and keeps the cluster's handle, so that
:meth:`ControllableKafka.down` can close every connection and refuse new ones
(``rd_kafka_mock_broker_set_down``), and :meth:`ControllableKafka.up` accept them again;
:meth:`ControllableKafka.group_timing` shortens the time after which the broker fences a
consumer that went silent (a killed process), which is tens of seconds by default.
Only public functions of librdkafka are called; no object of confluent-kafka is touched.
"""

from __future__ import annotations

import ctypes
import pathlib
from types import TracebackType
from typing import Self

import confluent_kafka

__all__ = ["ControllableKafka"]

_PRODUCER = 0  # rd_kafka_type_t RD_KAFKA_PRODUCER
_ERRSTR_SIZE = 512


def _librdkafka() -> ctypes.CDLL:
    """The librdkafka confluent-kafka loaded (its wheel bundles it beside the package)."""
    package = pathlib.Path(confluent_kafka.__file__).parent
    found = sorted(package.parent.glob("confluent_kafka.libs/librdkafka*.so*"))
    library = ctypes.CDLL(str(found[0]) if found else "librdkafka.so.1")
    void, text, size = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t
    library.rd_kafka_conf_new.restype = void
    library.rd_kafka_conf_new.argtypes = []
    library.rd_kafka_conf_set.restype = ctypes.c_int
    library.rd_kafka_conf_set.argtypes = [void, text, text, text, size]
    library.rd_kafka_conf_destroy.argtypes = [void]
    library.rd_kafka_new.restype = void
    library.rd_kafka_new.argtypes = [ctypes.c_int, void, text, size]
    library.rd_kafka_destroy.argtypes = [void]
    library.rd_kafka_handle_mock_cluster.restype = void
    library.rd_kafka_handle_mock_cluster.argtypes = [void]
    library.rd_kafka_mock_cluster_bootstraps.restype = text
    library.rd_kafka_mock_cluster_bootstraps.argtypes = [void]
    for name in ("rd_kafka_mock_broker_set_down", "rd_kafka_mock_broker_set_up"):
        function = getattr(library, name)
        function.restype = ctypes.c_int
        function.argtypes = [void, ctypes.c_int32]
    for name in (
        "rd_kafka_mock_set_group_consumer_session_timeout_ms",
        "rd_kafka_mock_set_group_consumer_heartbeat_interval_ms",
    ):
        function = getattr(library, name)
        function.restype = None
        function.argtypes = [void, ctypes.c_int]
    return library


class ControllableKafka:
    """A one-broker mock cluster of this test's own, which :meth:`down` makes unreachable."""

    BROKER_ID = 1

    def __init__(self) -> None:
        self._library = _librdkafka()
        self._handle: int | None = None
        self._cluster: int | None = None
        self.bootstrap_servers = ""

    def start(self) -> Self:
        library = self._library
        error = ctypes.create_string_buffer(_ERRSTR_SIZE)
        conf = library.rd_kafka_conf_new()
        # Log level 3 (error) hides the notice that the mock cluster is enabled.
        for key, value in (("test.mock.num.brokers", "1"), ("log_level", "3")):
            if library.rd_kafka_conf_set(conf, key.encode(), value.encode(), error, _ERRSTR_SIZE):
                library.rd_kafka_conf_destroy(conf)
                raise RuntimeError(f"librdkafka refused {key}={value}: {error.value.decode()}")
        handle = library.rd_kafka_new(_PRODUCER, conf, error, _ERRSTR_SIZE)
        if not handle:
            raise RuntimeError(f"librdkafka could not start a mock cluster: {error.value.decode()}")
        self._handle = handle
        self._cluster = library.rd_kafka_handle_mock_cluster(handle)
        self.bootstrap_servers = library.rd_kafka_mock_cluster_bootstraps(self._cluster).decode()
        return self

    def down(self) -> None:
        """Close every client connection to the broker and refuse new ones."""
        self._control("rd_kafka_mock_broker_set_down")

    def up(self) -> None:
        """Accept connections again; topics, messages and offsets are as they were."""
        self._control("rd_kafka_mock_broker_set_up")

    def group_timing(self, *, session_timeout_ms: int, heartbeat_interval_ms: int) -> None:
        """How long a KIP-848 group member may stay silent before the broker fences it and
        gives its partitions to the others, and how often members are told to heartbeat."""
        library, cluster = self._library, self._running()
        library.rd_kafka_mock_set_group_consumer_session_timeout_ms(cluster, session_timeout_ms)
        library.rd_kafka_mock_set_group_consumer_heartbeat_interval_ms(
            cluster, heartbeat_interval_ms
        )

    def stop(self) -> None:
        handle, self._handle, self._cluster = self._handle, None, None
        if handle is not None:
            self._library.rd_kafka_destroy(handle)

    def _running(self) -> int:
        if self._cluster is None:
            raise RuntimeError("the mock cluster is not running")
        return self._cluster

    def _control(self, function: str) -> None:
        code = getattr(self._library, function)(self._running(), self.BROKER_ID)
        if code:
            raise RuntimeError(f"{function} failed with librdkafka error code {code}")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
