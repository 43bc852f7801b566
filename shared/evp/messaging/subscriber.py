"""A consumer group member: fetches and handles on the event loop, commits what is done.

librdkafka fetches in its own threads; the runtime takes what it has prefetched with a
non-blocking ``consume`` on the event loop and sorts the messages into per-partition
queues. One worker task per partition with messages waiting handles them in order, so
each partition keeps its order while partitions proceed side by side. Only when nothing
is prefetched does a blocking ``consume`` wait on a thread of the subscriber's own. While
events flow, no second Python thread competes for the GIL: handing it back and forth
between a fetching thread and the loop (5 ms switch interval) cost a third of the
throughput.

A partition's offset advances only after its message was handled, skipped or
dead-lettered (confirmed), and is committed from there every ``commit_interval``, on every
rebalance and on stop: at-least-once, nothing lost. At most ``max_in_flight`` messages are
held; beyond that fetching pauses until workers catch up.

Whatever goes wrong, no message is skipped. When processing a message fails in a way the
processor did not turn into a dead letter (a bug, a dead letter Kafka refuses), the worker
drops the partition's queue and seeks the consumer back to that message, which is fetched
and tried again after a backoff: the "seek to current" of Spring Kafka's error handler. A
fetch loop that fails is restarted with backoff, and :meth:`Subscriber.health` says so
until fetching works again. A watchdog cuts off handler attempts past their deadline.

On a rebalance, revoked partitions stop taking new messages and what is done is committed
before they go; a handler still running on one finishes, and its event, not committed,
is handled again by the partition's next owner (the idempotent helper absorbs it). On
stop: stop fetching, let running handlers finish (``shutdown_timeout``; queued messages
are left for redelivery), commit, close.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from evp.messaging.errors import BrokerError
from evp.messaging.processor import Abandoned, Backoff, MessageProcessor, Slot
from evp.metrics import ServiceMetrics

__all__ = ["Subscriber", "SubscriberHealth"]

_log = logging.getLogger("evp.messaging.consumer")
_POLL_S = 0.1
_BATCH = 500
_RELEASE_EVERY = 100  # messages handled before a worker hands capacity back
_RESTART_BACKOFF = Backoff(0.1, 5.0)
# Leaving the group commits and waits for the coordinator; librdkafka bounds neither
# wait by itself, and a close that never returns would hold the process's stop forever.
_CLOSE_TIMEOUT_S = 30.0
_LEARN_STARTS_S = 0.5  # between tries while the broker cannot tell
_BROKER_TIMEOUT_S = 5.0


class SubscriberHealth:
    """Whether a consumer group member is fetching, with what went wrong if it is not."""

    __slots__ = ("detail", "ok")

    def __init__(self, ok: bool, detail: str = "") -> None:
        self.ok = ok
        self.detail = detail

    def __repr__(self) -> str:
        return f"SubscriberHealth(ok={self.ok!r}, detail={self.detail!r})"


class _Partition:
    """One assigned partition: its queue of fetched messages and how far it is done."""

    __slots__ = (
        "committed",
        "done",
        "failures",
        "queue",
        "revoked",
        "rewound_to",
        "scheduled",
        "slot",
        "start",
        "topic_partition",
    )

    def __init__(self, topic: str, partition: int) -> None:
        self.topic_partition = (topic, partition)
        self.queue: collections.deque[Message] = collections.deque()
        self.scheduled = False  # a worker is draining the queue
        self.revoked = False
        self.done = -1  # the next offset to commit; -1 until a message is done
        self.committed = -1
        self.start = -1  # where the member starts reading; -1 until learnt from the broker
        self.slot = Slot()  # one worker at a time per partition, so one slot
        self.failures = 0  # processing failures in a row, for the backoff
        self.rewound_to: int | None = None  # sought back here; later offsets are stale


class Subscriber:
    """Runs one consumer of ``topics`` in a group, passing each message to ``processor``."""

    def __init__(
        self,
        *,
        group: str,
        topics: Sequence[str],
        config: Mapping[str, Any],
        processor: MessageProcessor,
        max_in_flight: int,
        shutdown_timeout: float,
        commit_interval: float = 0.2,
        close_timeout: float = _CLOSE_TIMEOUT_S,
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self.group = group
        self.topics = list(topics)
        self._config = dict(config)
        self._processor = processor
        self._max_in_flight = max_in_flight
        self._shutdown_timeout = shutdown_timeout
        self._commit_interval = commit_interval
        self._close_timeout = close_timeout
        self._metrics = metrics
        self._consumer: Consumer | None = None
        # Rebalance callbacks run in whichever thread called consume(): the loop's or the
        # waiting thread's. The lock guards what they share with the loop.
        self._lock = threading.Lock()
        self._partitions: dict[tuple[str, int], _Partition] = {}
        self._in_flight = 0
        self._room = asyncio.Event()
        self._halting = False
        self._pump: asyncio.Task[None] | None = None
        self._waiter: ThreadPoolExecutor | None = None
        self._workers: set[asyncio.Task[None]] = set()
        self._assigned = asyncio.Event()
        self._reassigned = asyncio.Event()  # partitions came whose start is not known yet
        self._loop: asyncio.AbstractEventLoop | None = None
        self._halted = asyncio.Event()
        self._watchdog: asyncio.Task[None] | None = None
        self._starts: asyncio.Task[None] | None = None
        self._active: set[Slot] = set()
        self._fetch_error: BaseException | None = None
        self.fetch_restarts = 0
        """Times the fetch loop failed and was restarted."""
        self.processing_failures = 0
        """Messages sought back to after processing failed unexpectedly."""

    def health(self) -> SubscriberHealth:
        """Whether this member is fetching; the last fetch failure when it is not."""
        if self._consumer is None:
            return SubscriberHealth(False, f"group {self.group}: not running")
        error = self._fetch_error
        if error is not None:
            return SubscriberHealth(
                False, f"group {self.group}: fetching failed: {type(error).__name__}: {error}"
            )
        return SubscriberHealth(True)

    @property
    def timeouts(self) -> int:
        """Handler attempts cut off at their deadline."""
        return self._processor.timeouts

    def lag(self) -> dict[tuple[str, int], int]:
        """Messages not yet done per assigned partition, from the last fetched high watermark.

        Cached figures only (no broker round trip), so it is cheap enough for every scrape.
        """
        consumer = self._consumer
        if consumer is None:
            return {}
        with self._lock:
            partitions = list(self._partitions.values())
        lags: dict[tuple[str, int], int] = {}
        for partition in partitions:
            try:
                _, high = consumer.get_watermark_offsets(
                    TopicPartition(*partition.topic_partition), cached=True
                )
            except (KafkaException, RuntimeError):
                continue
            if high is None or high < 0:
                continue
            done = max(partition.done, partition.committed, partition.start)
            lags[partition.topic_partition] = max(0, high - done) if done >= 0 else high
        return lags

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` has begun."""
        return self._halting

    def assignment(self) -> list[tuple[str, int]]:
        """The (topic, partition) pairs this member owns now."""
        with self._lock:
            return sorted(self._partitions)

    async def wait_assigned(self) -> None:
        """Wait until the group gave this member its first partitions."""
        await self._assigned.wait()

    def start(self) -> None:
        """Join the group and start fetching."""
        if self._consumer is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._config.setdefault("logger", logging.getLogger("evp.messaging.librdkafka"))
        self._config.setdefault("error_cb", _log_error)
        self._config.setdefault("on_commit", _log_commit)
        try:
            consumer = Consumer(self._config)
            consumer.subscribe(
                self.topics,
                on_assign=self._on_assign,
                on_revoke=self._on_revoke,
                on_lost=self._on_lost,
            )
        except KafkaException as error:
            raise BrokerError(
                str(error.args[0]), operation=f"joining group {self.group}"
            ) from error
        self._consumer = consumer
        self._halting = False
        self._halted.clear()
        self._waiter = ThreadPoolExecutor(1, thread_name_prefix=f"evp-consumer-{self.group}")
        self._pump = asyncio.create_task(self._fetch(consumer), name=f"evp-fetch-{self.group}")
        self._watchdog = asyncio.create_task(self._watch(), name=f"evp-watchdog-{self.group}")
        self._starts = asyncio.create_task(
            self._learn_starts(consumer), name=f"evp-starts-{self.group}"
        )

    async def stop(self) -> None:
        """Stop fetching, let running handlers finish (within the grace time), commit, close."""
        consumer, self._consumer = self._consumer, None
        if consumer is None:
            return
        self._halting = True
        self._halted.set()
        self._room.set()
        if self._pump is not None:
            await self._pump
        workers = list(self._workers)
        if workers:
            _, late = await asyncio.wait(workers, timeout=self._shutdown_timeout)
            for task in late:
                task.cancel()
            if late:
                _log.warning(
                    "group %s: %d handler(s) cut off at shutdown; their messages are redelivered",
                    self.group,
                    len(late),
                )
                await asyncio.gather(*late, return_exceptions=True)
        helpers = (self._watchdog, self._starts)
        self._watchdog = self._starts = None
        for helper in helpers:
            if helper is not None:
                helper.cancel()
                await asyncio.gather(helper, return_exceptions=True)
        waiter, self._waiter = self._waiter, None
        assert waiter is not None
        waiter.shutdown()
        await self._leave(consumer)

    async def _leave(self, consumer: Consumer) -> None:
        """Commit and leave the group, giving up after ``close_timeout``.

        The close runs on a daemon thread of its own: one that never returns is left
        behind, so neither this stop nor the interpreter's exit waits for it. What it did
        not commit is redelivered, and the group expires the member after its session.
        """
        loop = asyncio.get_running_loop()
        closed = loop.create_future()

        def close() -> None:
            try:
                self._close(consumer)
            finally:
                with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits
                    loop.call_soon_threadsafe(_settle, closed)

        threading.Thread(target=close, name=f"evp-close-{self.group}", daemon=True).start()
        try:
            await asyncio.wait_for(asyncio.shield(closed), self._close_timeout)
        except TimeoutError:
            _log.error(
                "group %s: leaving the group took more than %.0f s; left behind "
                "(what it had not committed is redelivered)",
                self.group,
                self._close_timeout,
            )

    # -- fetching (on the event loop) --------------------------------------------------------

    async def _fetch(self, consumer: Consumer) -> None:
        """Run the fetch loop until stop, restarting it with backoff whenever it fails."""
        failures = 0
        while not self._halting:
            try:
                await self._fetch_until_stopped(consumer)
            except Exception as error:
                failures += 1
                self.fetch_restarts += 1
                if self._metrics is not None:
                    self._metrics.fetch_restarted(self.group)
                self._fetch_error = error
                delay = _RESTART_BACKOFF.delay(failures)
                _log.exception(
                    "group %s: fetching failed (%d in a row); restarting in %.1f s",
                    self.group,
                    failures,
                    delay,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._halted.wait(), delay)
            else:
                return

    async def _fetch_until_stopped(self, consumer: Consumer) -> None:
        loop = asyncio.get_running_loop()
        next_commit = time.monotonic() + self._commit_interval
        while not self._halting:
            budget = min(_BATCH, self._max_in_flight - self._in_flight)
            if budget <= 0:
                self._room.clear()
                await self._room.wait()
                continue
            messages = consumer.consume(budget, 0)
            if not messages:
                # Nothing prefetched: wait on the waiting thread, the loop free. poll()
                # answers the first message as it comes; consume() would wait for a
                # full batch or the timeout.
                first = await loop.run_in_executor(self._waiter, consumer.poll, _POLL_S)
                if first is not None:
                    rest = consumer.consume(budget - 1, 0) if budget > 1 else []
                    messages = [first, *rest]
            if self._fetch_error is not None:
                self._fetch_error = None  # a round went through: fetching works again
                _log.info("group %s: fetching again", self.group)
            if messages:
                self._run_workers(self._sort(messages))
            if time.monotonic() >= next_commit:
                self._commit_done(consumer)
                next_commit = time.monotonic() + self._commit_interval
            # Let the workers run before fetching more.
            await asyncio.sleep(0)

    def _sort(self, messages: list[Message]) -> list[_Partition]:
        """Queue each message on its partition; answer the partitions that need a worker."""
        woken: list[_Partition] = []
        taken = 0
        with self._lock:
            for message in messages:
                error = message.error()
                if error is not None:
                    if error.code() != KafkaError._PARTITION_EOF:
                        _log.warning("group %s: consumer error: %s", self.group, error)
                    continue
                partition = self._partitions.get((message.topic() or "", message.partition() or 0))
                if partition is None or partition.revoked:
                    continue  # fetched just before its partition was revoked
                if partition.rewound_to is not None:
                    # Fetched before the seek back: wait for the message sought.
                    if message.offset() != partition.rewound_to:
                        continue
                    partition.rewound_to = None
                partition.queue.append(message)
                taken += 1
                if not partition.scheduled:
                    partition.scheduled = True
                    woken.append(partition)
            self._in_flight += taken
        return woken

    # -- rebalance callbacks (inside consume(), on the loop or the waiting thread) -----------

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        with self._lock:
            for tp in partitions:
                self._partitions[(tp.topic, tp.partition)] = _Partition(tp.topic, tp.partition)
        _log.info("group %s: assigned %s", self.group, _names(partitions))
        if partitions and self._loop is not None:
            self._loop.call_soon_threadsafe(self._assigned.set)
            self._loop.call_soon_threadsafe(self._reassigned.set)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._commit(consumer, self._release(partitions), asynchronous=False)
        _log.info("group %s: revoked %s", self.group, _names(partitions))

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Another member may own them already: committing now could overwrite its progress.
        self._release(partitions)
        _log.warning("group %s: lost %s", self.group, _names(partitions))

    def _release(self, partitions: list[TopicPartition]) -> list[_Partition]:
        released: list[_Partition] = []
        with self._lock:
            for tp in partitions:
                partition = self._partitions.pop((tp.topic, tp.partition), None)
                if partition is not None:
                    partition.revoked = True
                    released.append(partition)
        return released

    # -- workers (on the event loop) ---------------------------------------------------------

    def _run_workers(self, partitions: list[_Partition]) -> None:
        for partition in partitions:
            task = asyncio.create_task(self._work(partition))
            self._workers.add(task)
            task.add_done_callback(self._workers.discard)

    async def _work(self, partition: _Partition) -> None:
        """Handle ``partition``'s queue in order until it is empty."""
        queue = partition.queue
        slot = partition.slot
        slot.task = asyncio.current_task()
        self._active.add(slot)
        finished = 0
        try:
            while queue:
                message = queue.popleft()
                finished += 1
                if partition.revoked or self._halting:
                    continue  # left for the partition's next owner, or the next start
                try:
                    await self._processor.process(message, slot)
                except Abandoned:
                    queue.clear()
                    break
                except Exception as error:
                    # Neither handled nor dead-lettered: it must not be skipped.
                    await self._rewind(partition, message, error)
                    break
                partition.done = (message.offset() or 0) + 1
                partition.failures = 0
                if finished >= _RELEASE_EVERY:
                    self._release_capacity(finished)
                    finished = 0
        finally:
            self._active.discard(slot)
            slot.task = None
            with self._lock:
                dropped = len(queue)
                queue.clear()
                partition.scheduled = False
                self._in_flight -= finished + dropped
            self._room.set()

    async def _rewind(self, partition: _Partition, message: Message, error: Exception) -> None:
        """Seek back to ``message`` after a backoff, so that it is fetched and tried again.

        Its offset was not marked done, so what follows it in the queue (dropped here) is
        fetched again too, in order. Until the seek succeeds, the partition takes nothing.
        """
        self.processing_failures += 1
        partition.failures += 1
        topic, number = partition.topic_partition
        offset = message.offset() or 0
        partition.rewound_to = offset
        partition.queue.clear()
        _log.error(
            "group %s: processing %s[%d]@%d failed; it will be fetched and tried again",
            self.group,
            topic,
            number,
            offset,
            exc_info=error,
        )
        while True:
            with contextlib.suppress(TimeoutError):
                delay = _RESTART_BACKOFF.delay(partition.failures)
                await asyncio.wait_for(self._halted.wait(), delay)
            consumer = self._consumer
            if partition.revoked or self._halting or consumer is None:
                return  # not done, so never committed: redelivered to the next owner
            try:
                consumer.seek(TopicPartition(topic, number, offset))
                return
            except KafkaException as failure:
                partition.failures += 1
                _log.warning("group %s: seeking back failed: %s", self.group, failure)

    async def _watch(self) -> None:
        """Cut off handler attempts that ran past their deadline."""
        interval = min(1.0, max(0.02, self._processor.shortest_timeout / 4))
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for slot in list(self._active):
                if slot.expire(now):
                    _log.warning("group %s: a handler ran past its timeout; cut off", self.group)

    async def _learn_starts(self, consumer: Consumer) -> None:
        """Learn where each newly assigned partition starts, for :meth:`lag`.

        Until a partition yields its first message its position is unknown, and a member
        assigned a topic read to its end would report the whole partition as lag. The
        committed offset (or, with none, the low watermark that ``earliest`` resets to)
        tells; asking is a broker round trip, so it runs on a thread, off the fetch path.
        """
        while True:
            await self._reassigned.wait()
            self._reassigned.clear()
            with self._lock:
                unknown = [
                    p
                    for p in self._partitions.values()
                    if p.start < 0 and p.done < 0 and p.committed < 0
                ]
            if not unknown:
                continue
            try:
                starts = await asyncio.to_thread(_starts_of, consumer, unknown)
            except (KafkaException, RuntimeError) as error:
                _log.debug("group %s: positions unavailable: %s", self.group, error)
                await asyncio.sleep(_LEARN_STARTS_S)
                self._reassigned.set()  # try again
                continue
            for partition, start in zip(unknown, starts, strict=True):
                partition.start = start

    def _release_capacity(self, count: int) -> None:
        with self._lock:
            self._in_flight -= count
        self._room.set()

    # -- commits -----------------------------------------------------------------------------

    def _commit_done(self, consumer: Consumer) -> None:
        with self._lock:
            partitions = list(self._partitions.values())
        self._commit(consumer, partitions, asynchronous=True)

    def _commit(
        self, consumer: Consumer, partitions: list[_Partition], *, asynchronous: bool
    ) -> None:
        """Commit the done offsets of ``partitions``."""
        # An asynchronous commit may still fail after it was sent, so the synchronous ones
        # (rebalance, close) commit every done offset, not only those that moved since.
        done = [(p, p.done) for p in partitions]
        offsets = [
            TopicPartition(*p.topic_partition, offset)
            for p, offset in done
            if offset > p.committed or (not asynchronous and offset >= 0)
        ]
        if not offsets:
            return
        try:
            if asynchronous:
                consumer.commit(offsets=offsets, asynchronous=True)
            else:
                consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as error:
            _log.warning("group %s: commit failed: %s", self.group, error.args[0])
            return
        for p, offset in done:
            p.committed = max(p.committed, offset)

    def _close(self, consumer: Consumer) -> None:
        """Blocking: commit what is done and leave the group."""
        with self._lock:
            partitions = list(self._partitions.values())
        self._commit(consumer, partitions, asynchronous=False)
        try:
            consumer.close()
        except (KafkaException, RuntimeError) as error:
            _log.warning("group %s: close failed: %s", self.group, error)


def _starts_of(consumer: Consumer, partitions: list[_Partition]) -> list[int]:
    """Blocking: the committed offset of each partition, or its low watermark if none."""
    committed = consumer.committed(
        [TopicPartition(*p.topic_partition) for p in partitions], timeout=_BROKER_TIMEOUT_S
    )
    starts: list[int] = []
    for tp in committed:
        if tp.offset >= 0:
            starts.append(tp.offset)
        else:
            low, _ = consumer.get_watermark_offsets(
                TopicPartition(tp.topic, tp.partition), timeout=_BROKER_TIMEOUT_S
            )
            starts.append(max(low, 0))
    return starts


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _names(partitions: list[TopicPartition]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions) or "nothing"


def _log_error(error: KafkaError) -> None:
    level = logging.ERROR if error.fatal() else logging.WARNING
    _log.log(level, "kafka consumer: %s", error)


def _log_commit(error: KafkaError | None, partitions: list[TopicPartition]) -> None:
    if error is not None:
        _log.warning("offset commit failed: %s", error)
