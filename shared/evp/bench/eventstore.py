"""The event-store section: appends, stream loads and the outbox relay, on Postgres.

Each contender runs against the same embedded Postgres (durability off, so the numbers show
the store's own overhead rather than the disk's), in the same process and event loop:

* appends: ``EventStore.append`` of freshly built events -- one-event transactions, and
  100-event transactions -- against a plain asyncpg INSERT (``executemany`` in a
  transaction for batches) of the same encoded rows into an equally indexed table;
* loads: ``EventStore.load`` of a stream of 10, 1,000 and 100,000 events against a plain
  ``SELECT event_type, data ... ORDER BY stream_version`` plus ``AvroCodec.decode``;
* the relay: committed events drained by ``OutboxRelay`` into an in-memory publisher that
  confirms at once (the relay's own cost, against the 10,000 events/s target), and, for
  information, one that confirms after 1 ms (a stand-in for broker acks), per stream and
  pipelined.

The server is ``EVP_BENCH_DATABASE_URL`` or an embedded one (see :mod:`evp.bench.database`).
"""

from __future__ import annotations

import asyncio
import gc
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from typing import Any

from evp.avro import AvroCodec, Event, InMemorySchemaLookup
from evp.bench.database import admin_url as bench_database
from evp.bench.errors import SectionSkipped
from evp.bench.harness import QUICK, Budget, Row
from evp.events import EVENT_TYPES, EmailChanged, UserRegistered
from evp.eventstore import EventStore, OutboxRelay, PostgresRecorder
from evp.eventstore.testing import RecordingPublisher
from evp.postgres import PostgresError, create_database, drop_database, unique_name

__all__ = ["SECTION", "run"]

SECTION = "eventstore"
OURS = "evp"
PLAIN_INSERT = "plain INSERT"
PLAIN_SELECT = "SELECT+decode"
APPEND_TARGET = 0.7
LOAD_TARGET = 0.8
RELAY_TARGET_RATE = 10_000.0
BATCH = 100
STREAMS = 100
# Stop timing a workload after this many seconds once it has had three rounds.
_WORKLOAD_CAP_S = 6.0

_PLAIN_TABLE = """
CREATE TABLE plain_events (
    position       bigserial   PRIMARY KEY,
    stream_id      text        NOT NULL,
    stream_version integer     NOT NULL,
    event_id       uuid        NOT NULL UNIQUE,
    event_type     text        NOT NULL,
    correlation_id uuid        NOT NULL,
    causation_id   uuid,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    data           bytea       NOT NULL,
    UNIQUE (stream_id, stream_version)
);
CREATE INDEX ON plain_events (correlation_id);
"""
_PLAIN_INSERT = (
    "INSERT INTO plain_events"
    " (stream_id, stream_version, event_id, event_type, correlation_id, causation_id, data)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7)"
)
_PLAIN_SELECT = (
    "SELECT event_type, data FROM plain_events WHERE stream_id = $1 ORDER BY stream_version"
)

Workload = Callable[[], Awaitable[object]]


def run(budget: Budget) -> list[Row]:
    """Rates of the store's appends, loads and relay, each against its baseline."""
    with ExitStack() as stack:
        admin_url = bench_database(stack, SECTION)
        return asyncio.run(_run(admin_url, budget))


async def _run(admin_url: str, budget: Budget) -> list[Row]:
    name = unique_name("bench")
    try:
        url = await create_database(admin_url, name)
    except PostgresError as error:
        raise SectionSkipped(SECTION, str(error)) from error
    try:
        recorder = await PostgresRecorder.connect(url)
        try:
            await recorder.pool.execute(_PLAIN_TABLE)
            bench = _Bench(recorder, budget)
            return [*await bench.appends(), *await bench.loads(), *await bench.relay()]
        finally:
            await recorder.close()
    finally:
        await drop_database(admin_url, name)


class _Bench:
    def __init__(self, recorder: PostgresRecorder, budget: Budget) -> None:
        lookup = InMemorySchemaLookup()
        for event_type in (UserRegistered, EmailChanged):
            lookup.register(event_type.SUBJECT, event_type.AVRO_SCHEMA)
        self.codec = AvroCodec(lookup)
        self.recorder = recorder
        self.store = EventStore(recorder, self.codec)
        self.pool = recorder.pool
        self.budget = budget
        self.quick = budget == QUICK

    # -- appends ------------------------------------------------------------------------

    async def appends(self) -> list[Row]:
        ours_one, plain_one = _Streams("one"), _Streams("one")
        ours_many, plain_many = _Streams("many"), _Streams("many")

        async def evp_one() -> None:
            stream, version = ours_one.next(1)
            await self.store.append(stream, [_change(stream)], expected_version=version)

        async def plain_one_() -> None:
            stream, version = plain_one.next(1)
            await self.pool.execute(_PLAIN_INSERT, *self._row(stream, version + 1, _change(stream)))

        async def evp_many() -> None:
            stream, version = ours_many.next(BATCH)
            events = [_change(stream) for _ in range(BATCH)]
            await self.store.append(stream, events, expected_version=version)

        async def plain_many_() -> None:
            stream, version = plain_many.next(BATCH)
            rows = [self._row(stream, version + i, _change(stream)) for i in range(1, BATCH + 1)]
            async with self.pool.acquire() as connection, connection.transaction():
                await connection.executemany(_PLAIN_INSERT, rows)

        rates = await _rates(
            {
                "evp 1": evp_one,
                "plain 1": plain_one_,
                "evp 100": evp_many,
                "plain 100": plain_many_,
            },
            self.budget,
        )
        rows: list[Row] = []
        for size, metric in ((1, "append 1-event tx"), (BATCH, f"append {BATCH}-event tx")):
            ours, plain = rates[f"evp {size}"] * size, rates[f"plain {size}"] * size
            rows.append(Row(SECTION, PLAIN_INSERT, metric, plain, "events/s"))
            rows.append(
                Row(
                    SECTION,
                    OURS,
                    metric,
                    ours,
                    "events/s",
                    baseline=PLAIN_INSERT,
                    ratio=ours / plain,
                    target=APPEND_TARGET,
                )
            )
        return rows

    def _row(self, stream: str, version: int, event: Event) -> tuple[Any, ...]:
        envelope = event.envelope
        return (
            stream,
            version,
            envelope.event_id,
            event.FULL_NAME,
            envelope.correlation_id,
            envelope.causation_id,
            self.codec.encode(event),
        )

    # -- loads --------------------------------------------------------------------------

    async def loads(self) -> list[Row]:
        lengths = (10, 100, 1_000) if self.quick else (10, 1_000, 100_000)
        rows: list[Row] = []
        for length in lengths:
            stream = await self._stream_of(length)

            async def evp_load(stream: str = stream) -> object:
                return await self.store.load(stream)

            async def plain_load(stream: str = stream) -> object:
                records = await self.pool.fetch(_PLAIN_SELECT, stream)
                decode, types = self.codec.decode, EVENT_TYPES
                return [decode(data, types[event_type]) for event_type, data in records]

            if await evp_load() != await plain_load():
                raise AssertionError("the store and the plain SELECT load different events")
            rates = await _rates({"evp": evp_load, "plain": plain_load}, self.budget)
            metric = f"load {length:,}-event stream"
            rows.append(Row(SECTION, PLAIN_SELECT, metric, rates["plain"], "loads/s"))
            rows.append(
                Row(
                    SECTION,
                    OURS,
                    metric,
                    rates["evp"],
                    "loads/s",
                    baseline=PLAIN_SELECT,
                    ratio=rates["evp"] / rates["plain"],
                    target=LOAD_TARGET,
                )
            )
        return rows

    async def _stream_of(self, length: int) -> str:
        """A stream of ``length`` events in the store, copied row for row into the plain table."""
        user_id = uuid.uuid4()
        stream = str(user_id)
        events: list[Event] = [
            UserRegistered.new(user_id=user_id, email="u@example.com", display_name="U", source="b")
        ]
        events += [_change(stream) for _ in range(length - 1)]
        for start in range(0, length, 1_000):
            chunk = events[start : start + 1_000]
            await self.store.append(stream, chunk, expected_version=start)
        await self.pool.execute(
            "INSERT INTO plain_events (stream_id, stream_version, event_id, event_type,"
            " correlation_id, causation_id, data)"
            " SELECT stream_id, stream_version, event_id, event_type, correlation_id,"
            " causation_id, data FROM evp_events WHERE stream_id = $1",
            stream,
        )
        return stream

    # -- relay --------------------------------------------------------------------------

    async def relay(self) -> list[Row]:
        count = 2_000 if self.quick else 20_000
        rows = []
        cases = (
            ("relay, instant acks", 0.0, False),
            ("relay, 1 ms acks", 0.001, False),
            ("relay, 1 ms acks, pipelined", 0.001, True),
        )
        for case, delay, pipelined in cases:
            name = f"bench {case}"
            async with self.recorder.transaction() as transaction:
                # Start the relay at the backlog, past the events of the other workloads.
                await transaction.save_checkpoint(name, await self.recorder.last_position())
            await self._backlog(count)
            publisher = _SlowPublisher(delay)
            relay = OutboxRelay(
                self.recorder, publisher, name=name, batch_size=1000, pipelined=pipelined
            )
            start = time.perf_counter()
            published = await relay.drain()
            rate = published / (time.perf_counter() - start)
            metric = "commit to confirmed delivery"
            if delay:
                # Informative: how a broker's ack latency shapes throughput.
                rows.append(Row(SECTION, case, metric, rate, "events/s"))
                continue
            rows.append(
                Row(
                    SECTION,
                    case,
                    metric,
                    rate,
                    "events/s",
                    baseline=f"{RELAY_TARGET_RATE:,.0f} events/s",
                    ratio=rate / RELAY_TARGET_RATE,
                    target=1.0,
                )
            )
        return rows

    async def _backlog(self, count: int) -> None:
        """Commit ``count`` events over ``STREAMS`` streams, 100 per transaction."""
        streams = _Streams("relay")
        for _ in range(count // BATCH):
            stream, version = streams.next(BATCH)
            events = [_change(stream) for _ in range(BATCH)]
            await self.store.append(stream, events, expected_version=version)


class _Streams:
    """Round-robin over ``STREAMS`` streams, tracking each one's version."""

    def __init__(self, prefix: str) -> None:
        self._ids = [f"{prefix}-{uuid.uuid4()}" for _ in range(STREAMS)]
        self._versions = dict.fromkeys(self._ids, 0)
        self._turn = 0

    def next(self, count: int) -> tuple[str, int]:
        """The next stream and its version before appending ``count`` events."""
        stream = self._ids[self._turn % STREAMS]
        self._turn += 1
        version = self._versions[stream]
        self._versions[stream] = version + count
        return stream, version


class _SlowPublisher(RecordingPublisher):
    """Confirms each message after ``delay`` seconds (none: at once)."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self._delay = delay

    async def publish_raw(
        self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
    ) -> None:
        if self._delay:
            await asyncio.sleep(self._delay)
        await super().publish_raw(topic, key, value, headers)


def _change(stream: str) -> EmailChanged:
    return EmailChanged.new(
        user_id=uuid.UUID(stream[-36:]) if len(stream) >= 36 else uuid.uuid4(),
        previous_email="old@example.com",
        new_email="new@example.com",
        source="bench",
    )


async def _rates(workloads: dict[str, Workload], budget: Budget) -> dict[str, float]:
    """Operations per second of each workload: the best of interleaved timed rounds.

    The async counterpart of :func:`evp.bench.harness.throughput`; a workload stops after
    ``_WORKLOAD_CAP_S`` of timing once it has had three rounds (100,000-event loads).
    """
    numbers = {name: await _warm_up(op, budget) for name, op in workloads.items()}
    best = dict.fromkeys(workloads, math.inf)
    spent = dict.fromkeys(workloads, 0.0)
    collecting = gc.isenabled()
    gc.disable()
    try:
        for round_ in range(budget.repeats):
            for name, op in workloads.items():
                if round_ >= 3 and spent[name] > _WORKLOAD_CAP_S:
                    continue
                elapsed = await _time(op, numbers[name])
                spent[name] += elapsed
                best[name] = min(best[name], elapsed / numbers[name])
    finally:
        if collecting:
            gc.enable()
    return {name: 1 / max(seconds, 1e-9) for name, seconds in best.items()}


async def _warm_up(op: Workload, budget: Budget) -> int:
    calls, elapsed = 0, 0.0
    while calls < 1 or elapsed < budget.warmup_s:
        step = max(1, calls)
        elapsed += await _time(op, step)
        calls += step
    return max(1, math.ceil(budget.round_s * calls / max(elapsed, 1e-9)))


async def _time(op: Workload, number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        await op()
    return time.perf_counter() - start
