"""A thin async adapter over librdkafka's producer: every send answers a future.

librdkafka calls delivery callbacks from ``poll()``; a thread of the adapter polls, and
each callback only counts and records. When a send (one message, or a batch) has all its
reports, it is queued and the event loop is woken once per poll round, not once per
message, to resolve the futures: waking the loop costs a system call, which would
otherwise be the most expensive step of producing.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, cast, overload

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from evp.messaging.errors import BrokerError, DeliveryFailed
from evp.messaging.headers import Headers
from evp.messaging.message import position

__all__ = ["AsyncProducer", "Deliveries", "Delivery", "Outgoing"]

_log = logging.getLogger("evp.messaging.producer")
_POLL_S = 0.05
_DEFAULT_MAX_MESSAGE_BYTES = 1_000_000  # librdkafka's default message.max.bytes
_NO_REPORT = cast(Message, None)  # a slot whose report has not come (or was an error)


class Delivery(NamedTuple):
    """Where Kafka wrote a message."""

    topic: str
    partition: int
    offset: int


class Outgoing(NamedTuple):
    """A message to produce: already-encoded key, value and headers."""

    topic: str
    key: bytes | None
    value: bytes
    headers: Headers
    partition: int | None = None
    """``None``: chosen by the partitioner from the key."""


class Deliveries(Sequence[Delivery]):
    """The deliveries of one send, in the order sent, built from the reports on access.

    A busy publisher rarely looks at them, so the per-message cost is paid only if it does.
    """

    __slots__ = ("_reports",)

    def __init__(self, reports: list[Message]) -> None:
        self._reports = reports

    @overload
    def __getitem__(self, index: int) -> Delivery: ...
    @overload
    def __getitem__(self, index: slice) -> list[Delivery]: ...
    def __getitem__(self, index: int | slice) -> Delivery | list[Delivery]:
        if isinstance(index, slice):
            return [Delivery(*position(m)) for m in self._reports[index]]
        return Delivery(*position(self._reports[index]))

    def __len__(self) -> int:
        return len(self._reports)

    def __repr__(self) -> str:
        return f"Deliveries({list(self)!r})"


class _Send:
    """The delivery reports of one send; completed when every message has one.

    The callbacks run on the polling thread and only record the report; turning reports
    into :class:`Delivery` values is left to the event loop, once, when the send settles.
    """

    __slots__ = ("errors", "future", "remaining", "reports", "sink")

    def __init__(
        self, count: int, future: asyncio.Future[Deliveries], sink: collections.deque[_Send]
    ) -> None:
        self.future = future
        self.remaining = count
        self.reports: list[Message] = [_NO_REPORT] * count
        self.errors: list[tuple[str, KafkaError]] = []
        self.sink = sink

    def report(self, index: int) -> Callable[[KafkaError | None, Message], None]:
        def on_delivery(error: KafkaError | None, message: Message) -> None:
            if error is None:
                self.reports[index] = message
            else:
                self.errors.append((message.topic() or "", error))
            self.remaining -= 1
            if self.remaining == 0:
                self.sink.append(self)

        return on_delivery

    def settle(self) -> None:
        if self.future.done():
            return
        if not self.errors:
            self.future.set_result(Deliveries(self.reports))
            return
        topic, first = self.errors[0]
        self.future.set_exception(
            DeliveryFailed(
                first.str(),
                topic=topic,
                failed=len(self.errors),
                delivered=len(self.reports) - len(self.errors),
                code=first.name(),
            )
        )


class AsyncProducer:
    """librdkafka's producer with futures; start it inside the event loop that awaits them."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._config = dict(config)
        self._producer: Producer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._completed: collections.deque[_Send] = collections.deque()
        self._wake_scheduled = False
        self._space = asyncio.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def max_message_bytes(self) -> int:
        """The largest message this producer sends (librdkafka's ``message.max.bytes``)."""
        return int(self._config.get("message.max.bytes", _DEFAULT_MAX_MESSAGE_BYTES))

    def start(self) -> None:
        """Create the producer and start polling for delivery reports."""
        if self._producer is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._config.setdefault("error_cb", _log_error)
        self._config.setdefault("logger", logging.getLogger("evp.messaging.librdkafka"))
        try:
            self._producer = Producer(self._config)
        except KafkaException as error:
            raise BrokerError(str(error.args[0]), operation="creating a producer") from error
        self._stopping.clear()
        self._thread = threading.Thread(target=self._poll, name="evp-producer-poll", daemon=True)
        self._thread.start()

    async def send(self, messages: Sequence[Outgoing]) -> Deliveries:
        """Produce ``messages`` and wait until Kafka confirmed every one of them.

        Raises :class:`DeliveryFailed` naming how many were not written when any report
        is an error (the others were written: Kafka has no atomic batch outside
        transactions).
        """
        producer = self._running()
        if not messages:
            return Deliveries([])
        pending = _Send(len(messages), asyncio.get_running_loop().create_future(), self._completed)
        # Our (str, bytes) header pairs are what librdkafka takes, but the stub's list type
        # is invariant; typing the method loosely spares a copy of every header list.
        produce: Callable[..., None] = producer.produce
        for index, (topic, key, value, headers, partition) in enumerate(messages):
            on_delivery = pending.report(index)
            while True:
                try:
                    # Positional arguments (topic, value, key, partition, callback,
                    # on_delivery, timestamp, headers): keyword parsing is measurable here.
                    produce(
                        topic,
                        value,
                        key,
                        -1 if partition is None else partition,
                        on_delivery,
                        None,
                        0,
                        headers,
                    )
                    break
                except BufferError:
                    # The local queue is full: wait for deliveries to make room.
                    self._space.clear()
                    await self._space.wait()
                except KafkaException as error:
                    reason = error.args[0]
                    raise BrokerError(
                        str(reason),
                        operation=f"producing to {topic}",
                        code=reason.name() if isinstance(reason, KafkaError) else None,
                    ) from error
        return await pending.future

    async def close(self, timeout: float = 10.0) -> None:
        """Wait up to ``timeout`` seconds for outstanding deliveries, then stop."""
        producer, self._producer = self._producer, None
        if producer is None:
            return
        self._stopping.set()
        thread, self._thread = self._thread, None
        loop = asyncio.get_running_loop()
        if thread is not None:
            await loop.run_in_executor(None, thread.join)
        # Polling has stopped, so flush() is now the only caller of delivery callbacks.
        remaining = await loop.run_in_executor(None, producer.flush, timeout)
        if remaining:
            _log.warning("%d message(s) not confirmed before the producer closed", remaining)
        self._drain()

    def _running(self) -> Producer:
        if self._producer is None:
            raise BrokerError("the producer is not running", operation="producing")
        return self._producer

    def _poll(self) -> None:
        producer = self._producer
        loop = self._loop
        assert producer is not None
        assert loop is not None
        while not self._stopping.is_set():
            producer.poll(_POLL_S)
            if self._completed and not self._wake_scheduled:
                self._wake_scheduled = True
                try:
                    loop.call_soon_threadsafe(self._drain)
                except RuntimeError:  # the loop has closed
                    return

    def _drain(self) -> None:
        self._wake_scheduled = False
        completed = self._completed
        while completed:
            completed.popleft().settle()
        self._space.set()


def _log_error(error: KafkaError) -> None:
    level = logging.ERROR if error.fatal() else logging.WARNING
    _log.log(level, "kafka producer: %s", error)
