"""The transport section: typed events through Kafka against the codec alone and raw bytes.

One run, one embedded broker and one registry (served over HTTP, every request counted):

* produce: typed ``OrderPlaced`` events published with delivery confirmed (encode, headers,
  produce, wait for Kafka's report), in batches of ``BATCH`` with two batches in flight, as
  a steadily publishing service would; against the codec's encode alone (target: at least
  0.85x, the transport adding at most 15%) and against raw bytes of the same size produced
  with confluent-kafka and flushed per batch;
* consume: the same events consumed by a subscriber (decode, schema checks, handler call,
  offset tracking and commits), the best stretch of ``STRETCH`` events of three fresh
  groups (as the harness keeps the best of its rounds); against the codec's decode alone
  (target 0.85x) and a raw confluent-kafka consumer timed the same way;
* registry calls made while timing, which must be zero: ids, writer schemas and verdicts
  are resolved once during warm-up.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import itertools
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
from confluent_kafka import Consumer, Producer
from starlette.types import ASGIApp, Receive, Scope, Send

from evp.bench.codec import sample_order
from evp.bench.errors import SectionSkipped
from evp.bench.harness import QUICK, Budget, Row, throughput
from evp.events import OrderPlaced
from evp.messaging import (
    EmbeddedKafka,
    EventBus,
    GroupProtocol,
    MessageContext,
    MessagingSettings,
    RegistrySchemaLookup,
)

__all__ = ["SECTION", "run"]

SECTION = "transport"
TARGET = 0.85
BATCH = 1000
STRETCH = 1000  # events per timed stretch of consuming
UNIT = "events/s"
_CONSUMED = 20_000  # fits the embedded broker's ~5 MiB per partition, over 4 partitions
_QUICK_CONSUMED = 2_000
_TIMEOUT_S = 60.0


class _CountingApp:
    """ASGI middleware counting the HTTP requests an app serves."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.requests = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.requests += 1
        await self.app(scope, receive, send)


def run(budget: Budget) -> list[Row]:
    """Produce and consume rates of typed events, raw bytes and the codec alone."""
    with ExitStack() as stack:
        registry_url, counter = _registry(stack)
        kafka = stack.enter_context(EmbeddedKafka())
        settings = MessagingSettings(
            kafka.bootstrap_servers,
            schema_registry_url=registry_url,
            topic_prefix=f"bench-{uuid.uuid4().hex[:8]}.",
            group_protocol=GroupProtocol.CONSUMER,
        )
        lookup = stack.enter_context(RegistrySchemaLookup(registry_url))
        loop = asyncio.new_event_loop()
        stack.callback(loop.close)
        return _Run(settings, lookup, loop, counter, budget).rows()


class _Run:
    def __init__(
        self,
        settings: MessagingSettings,
        lookup: RegistrySchemaLookup,
        loop: asyncio.AbstractEventLoop,
        counter: _CountingApp,
        budget: Budget,
    ) -> None:
        self.settings = settings
        self.lookup = lookup
        self.loop = loop
        self.counter = counter
        self.budget = budget
        self.quick = budget is QUICK
        self.bootstrap = str(settings.bootstrap_servers)

    def rows(self) -> list[Row]:
        produced = self._produce()
        consumed = self._consume()
        return produced + consumed

    # -- produce -----------------------------------------------------------------------------

    def _produce(self) -> list[Row]:
        order = sample_order()
        batches = [_orders(BATCH) for _ in range(2)]
        bus = EventBus(self.settings, service="bench", publishes=(OrderPlaced,), lookup=self.lookup)
        self.loop.run_until_complete(bus.start())
        try:
            frame = bus.codec.encode(order)
            publish = _Pipeline(self.loop, lambda i: bus.publish_batch(batches[i % 2]))
            raw = _raw_producer(
                self.bootstrap, self.settings.topic_prefix + "raw", frame, batches[0]
            )
            publish.step()  # warm-up outside the counted calls: the topic exists, ids resolved
            before = self.counter.requests
            rates = throughput(
                {
                    # What publishing runs per event (encode() wraps it), as the baseline.
                    "encode": lambda: bus.codec.encode_values(order),
                    "publish": publish.step,
                    "raw": raw,
                },
                self.budget,
            )
            publish.finish()
            calls = self.counter.requests - before
        finally:
            self.loop.run_until_complete(bus.stop())
        typed, encode, raw_rate = rates["publish"] * BATCH, rates["encode"], rates["raw"] * BATCH
        return [
            Row(SECTION, "confluent-kafka raw bytes", "produce", raw_rate, UNIT),
            Row(SECTION, "evp codec alone", "encode", encode, UNIT),
            Row(
                SECTION,
                "evp publish",
                "produce",
                typed,
                UNIT,
                "codec encode",
                typed / encode,
                TARGET,
            ),
            Row(SECTION, "evp publish", "produce", typed, UNIT, "raw produce", typed / raw_rate),
            Row(SECTION, "evp publish", "registry calls", calls, "calls"),
        ]

    # -- consume -----------------------------------------------------------------------------

    def _consume(self) -> list[Row]:
        count = _QUICK_CONSUMED if self.quick else _CONSUMED
        settings = self.settings.replace(topic_prefix=self.settings.topic_prefix + "c.")
        order = sample_order()
        bus = EventBus(settings, service="bench", publishes=(OrderPlaced,), lookup=self.lookup)
        self.loop.run_until_complete(bus.start())
        try:
            for start in range(0, count, BATCH):
                self.loop.run_until_complete(bus.publish_batch(_orders(min(BATCH, count - start))))
            frame = bus.codec.encode(order)
        finally:
            self.loop.run_until_complete(bus.stop())
        topic = bus.topics.of(OrderPlaced)
        rounds = 1 if self.quick else 3
        # Decoding alone is timed between the consuming rounds, not once before them, so
        # that the machine's speed drifting during the run moves both sides alike.
        share = dataclasses.replace(self.budget, repeats=max(1, self.budget.repeats // rounds))
        typed = raw = rate = 0.0
        self.loop.run_until_complete(self._subscribe(settings, count))  # warm-up: plans, verdicts
        before = self.counter.requests
        for _ in range(rounds):
            decode = throughput({"decode": lambda: bus.codec.decode(frame, OrderPlaced)}, share)
            rate = max(rate, decode["decode"])
            # As the harness does (and timeit): no garbage collection while timing.
            collecting = gc.isenabled()
            gc.disable()
            try:
                typed = max(typed, self.loop.run_until_complete(self._subscribe(settings, count)))
                raw = max(raw, _raw_consume(self.bootstrap, topic, count))
            finally:
                if collecting:
                    gc.enable()
        calls = self.counter.requests - before
        return [
            Row(SECTION, "confluent-kafka raw bytes", "consume", raw, UNIT),
            Row(SECTION, "evp codec alone", "decode", rate, UNIT),
            Row(
                SECTION,
                "evp subscriber",
                "consume",
                typed,
                UNIT,
                "codec decode",
                typed / rate,
                TARGET,
            ),
            Row(SECTION, "evp subscriber", "consume", typed, UNIT, "raw consume", typed / raw),
            Row(SECTION, "evp subscriber", "registry calls", calls, "calls"),
        ]

    async def _subscribe(self, settings: MessagingSettings, count: int) -> float:
        """The best rate (events/s) of a fresh group over a stretch of ``STRETCH`` events."""
        bus = EventBus(settings, service="bench", lookup=self.lookup)
        marks: list[float] = []
        done = asyncio.Event()
        seen = 0

        async def handle(event: OrderPlaced, context: MessageContext) -> None:
            nonlocal seen
            seen += 1
            # Events past ``count`` (a topic holding more) would put a one-event span last.
            if seen <= count and (seen % STRETCH == 1 or seen == count):
                marks.append(time.perf_counter())
                if seen == count:
                    done.set()

        bus.subscriber(group=f"bench-{uuid.uuid4().hex[:8]}", events=(OrderPlaced,))(handle)
        async with bus:
            await asyncio.wait_for(done.wait(), _TIMEOUT_S)
        return _best_stretch(marks)


class _Pipeline:
    """Runs a coroutine per step with two in flight: each step starts one, finishes the previous."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, start: Callable[[int], Awaitable[Any]]
    ) -> None:
        self._loop = loop
        self._start = start
        self._steps = 0
        self._previous: asyncio.Future[Any] | None = None

    def step(self) -> None:
        started = asyncio.ensure_future(self._start(self._steps), loop=self._loop)
        self._steps += 1
        if self._previous is not None:
            self._loop.run_until_complete(self._previous)
        self._previous = started

    def finish(self) -> None:
        if self._previous is not None:
            self._loop.run_until_complete(self._previous)
            self._previous = None


def _orders(count: int) -> list[OrderPlaced]:
    base = sample_order()
    return [dataclasses.replace(base, order_id=uuid.uuid4()) for _ in range(count)]


def _raw_producer(
    bootstrap: str, topic: str, value: bytes, orders: list[OrderPlaced]
) -> Callable[[], None]:
    """A batch of ``value`` (the typed frame's bytes) per call, flushed: delivery confirmed."""
    producer = Producer(
        {"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all", "log_level": 3}
    )
    keys = [o.key().encode() for o in orders]

    def batch() -> None:
        for key in keys:
            producer.produce(topic, value, key)
        producer.flush()

    return batch


def _raw_consume(bootstrap: str, topic: str, count: int) -> float:
    """The best rate (messages/s) of a raw consumer of a fresh group over a stretch."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"raw-{uuid.uuid4().hex[:8]}",
            "group.protocol": "consumer",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "fetch.queue.backoff.ms": 10,
            "log_level": 3,
        }
    )
    consumer.subscribe([topic])
    seen = 0
    marks: list[float] = []
    deadline = time.monotonic() + _TIMEOUT_S
    try:
        while seen < count and time.monotonic() < deadline:
            for message in consumer.consume(500, 0.1):
                if message.error() is None:
                    message.value()
                    seen += 1
                    if seen % STRETCH == 1 or seen == count:
                        marks.append(time.perf_counter())
    finally:
        consumer.close()
    return _best_stretch(marks)


def _best_stretch(marks: list[float]) -> float:
    """Events per second over the quickest stretch between marks ``STRETCH`` events apart.

    The harness keeps the best of many short rounds, so that load from elsewhere on the
    machine does not land on one contender; consuming is timed the same way.
    """
    spans = [later - earlier for earlier, later in itertools.pairwise(marks[: len(marks) - 1])]
    return STRETCH / min(spans) if spans else 0.0


@contextmanager
def _embedded_registry() -> Iterator[tuple[str, _CountingApp]]:
    from evp.postgres import EmbeddedPostgresError
    from evp.registry.app import create_app
    from evp.registry.server import BackgroundServer, embedded_database

    with ExitStack() as stack:
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="evp-bench-transport-"))
        try:
            database_url = embedded_database(stack, data_dir, delete_on_stop=True)
        except EmbeddedPostgresError as error:
            raise SectionSkipped(SECTION, str(error)) from error
        counter = _CountingApp(create_app(database_url))
        server = stack.enter_context(BackgroundServer(counter))
        httpx.post(
            f"{server.url}/subjects/{OrderPlaced.SUBJECT}/versions",
            json={"schema": OrderPlaced.AVRO_SCHEMA},
        ).raise_for_status()
        yield server.url, counter


def _registry(stack: ExitStack) -> tuple[str, _CountingApp]:
    return stack.enter_context(_embedded_registry())
