"""The transport section: typed events through Kafka against confluent-kafka's serde and raw bytes.

One run, one embedded broker and one registry (served over HTTP, every request counted):

* produce: typed ``OrderPlaced`` events published with delivery confirmed (encode, headers,
  produce, Kafka's report), in batches of ``BATCH`` with two batches in flight, as a
  steadily publishing service would; against confluent-kafka's ``SerializingProducer``
  with its ``AvroSerializer`` (and the ``to_dict`` its user writes) producing the same
  event, which is what a user would pick instead (target: at least 1.3x), and raw bytes of
  the same frame (for reference). The baselines use our producer's librdkafka settings and
  are driven the same way: batches with two in flight, every delivery report served;
* consume: the same events consumed by a subscriber (decode, schema checks, handler call,
  offset tracking and commits), the best stretch of ``STRETCH`` events of three fresh
  groups (as the harness keeps the best of its rounds); against confluent-kafka's
  ``DeserializingConsumer`` with its ``AvroDeserializer`` (target 1.3x) and a raw consumer
  (for reference), timed the same way;
* the transport's cost per event over encoding (decoding) alone: microseconds per event
  of publishing (consuming) minus those of the codec on the same event (target: at most
  ``COST_TARGET_US``);
* registry calls made while timing, which must be zero: ids, writer schemas and verdicts
  are resolved once during warm-up, by our clients and confluent's alike.

Each timed round is self-contained: it starts with nothing in flight and ends when every
delivery report of its events was served, and each contender has its own producer or
consumer, so no contender's reports or fetching run during another's round.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import itertools
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, closing, contextmanager
from typing import Any

import httpx
from confluent_kafka import (
    Consumer,
    DeserializingConsumer,
    KafkaError,
    Message,
    Producer,
    SerializingProducer,
)
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext, StringSerializer
from starlette.types import ASGIApp, Receive, Scope, Send

from evp.bench.codec import order_from_dict, order_to_dict, sample_order
from evp.bench.errors import Disagreement, SectionSkipped
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
from evp.messaging.config import admin_config, consumer_config, producer_config
from evp.messaging.errors import DeliveryFailed
from evp.messaging.topics import TopicAdmin

__all__ = [
    "CODEC",
    "CONFLUENT_CONSUMER",
    "CONFLUENT_PRODUCER",
    "COST_TARGET_US",
    "EVP_PUBLISH",
    "EVP_SUBSCRIBER",
    "RATIO_TARGET",
    "RAW",
    "SECTION",
    "run",
]

SECTION = "transport"
EVP_PUBLISH = "evp publish"
EVP_SUBSCRIBER = "evp subscriber"
CONFLUENT_PRODUCER = "confluent SerializingProducer"
CONFLUENT_CONSUMER = "confluent DeserializingConsumer"
RAW = "confluent-kafka raw bytes"
CODEC = "evp codec alone"
RATIO_TARGET = 1.3  # against confluent's serde, producing and consuming
COST_TARGET_US = 5.0  # the transport's microseconds per event over the codec, at most
BATCH = 1000
ROUND_BATCHES = 4  # batches per timed round of producing
STRETCH = 1000  # events per timed stretch of consuming
RATE = "events/s"
COST = "µs/event"
CALLS = "calls"
_CONSUMED = 20_000  # fits the embedded broker's ~5 MiB per partition, over 4 partitions
_QUICK_CONSUMED = 2_000
_TIMEOUT_S = 60.0
_POLL_S = 0.1

DeliveryReport = Callable[[KafkaError | None, Message], None]


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
    """Produce and consume rates of typed events, confluent's serde, raw bytes and the codec."""
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
        self.registry_url = str(settings.schema_registry_url)

    def rows(self) -> list[Row]:
        produced = self._produce()
        consumed = self._consume()
        return produced + consumed

    def _counted(
        self, op: Callable[[], object], calls: dict[str, int], name: str
    ) -> Callable[[], None]:
        """``op``, adding the registry requests it caused to ``calls[name]``."""
        calls[name] = 0

        def counted() -> None:
            before = self.counter.requests
            op()
            calls[name] += self.counter.requests - before

        return counted

    # -- produce -----------------------------------------------------------------------------

    def _produce(self) -> list[Row]:
        order = sample_order()
        batches = [_orders(BATCH) for _ in range(ROUND_BATCHES)]
        prefix = self.settings.topic_prefix
        confluent_topic, raw_topic = prefix + "confluent", prefix + "raw"
        admin = admin_config(self.settings, bootstrap_servers=self.bootstrap, client_id="bench")
        TopicAdmin(admin).ensure([confluent_topic, raw_topic])  # as evp's topic: 4 partitions
        bus = EventBus(self.settings, service="bench", publishes=(OrderPlaced,), lookup=self.lookup)
        self.loop.run_until_complete(bus.start())
        with ExitStack() as stack:
            stack.callback(lambda: self.loop.run_until_complete(bus.stop()))
            frame = bus.codec.encode(order)
            # Our producer's librdkafka settings (idempotent, acks=all, linger.ms), each
            # baseline with a producer of its own.
            config = producer_config(
                self.settings, bootstrap_servers=self.bootstrap, client_id="bench-baseline"
            )
            client = stack.enter_context(closing(SchemaRegistryClient({"url": self.registry_url})))
            serializer = _serializer(client)
            _check_frame(serializer(order, _context(confluent_topic)), frame)
            serializing = SerializingProducer(
                {**config, "key.serializer": StringSerializer(), "value.serializer": serializer}
            )
            raw = Producer(config)
            for producer in (serializing, raw):
                stack.callback(producer.flush, _TIMEOUT_S)

            def send_serialized(index: int, report: DeliveryReport) -> None:
                produce = serializing.produce
                for each in batches[index]:
                    produce(confluent_topic, str(each.order_id), each, on_delivery=report)

            keys = [[o.key().encode() for o in batch] for batch in batches]

            def send_raw(index: int, report: DeliveryReport) -> None:
                produce = raw.produce
                for key in keys[index]:
                    produce(raw_topic, frame, key, on_delivery=report)

            calls: dict[str, int] = {}
            rounds = {
                EVP_PUBLISH: lambda: self.loop.run_until_complete(_publish_round(bus, batches)),
                CONFLUENT_PRODUCER: _confirmed_round(serializing, send_serialized, confluent_topic),
                RAW: _confirmed_round(raw, send_raw, raw_topic),
            }
            for op in rounds.values():
                op()  # warm-up outside the counted calls: topics exist, ids resolved
            rates = throughput(
                {
                    # What publishing runs per event (encode() wraps it), as the baseline.
                    CODEC: lambda: bus.codec.encode_values(order),
                    **{name: self._counted(op, calls, name) for name, op in rounds.items()},
                },
                self.budget,
            )
        events = BATCH * ROUND_BATCHES
        typed, confluent = rates[EVP_PUBLISH] * events, rates[CONFLUENT_PRODUCER] * events
        return _rows(
            "produce",
            "encode",
            typed=typed,
            confluent=confluent,
            raw=rates[RAW] * events,
            codec=rates[CODEC],
            calls=calls,
        )

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
        client = SchemaRegistryClient({"url": self.registry_url})
        with closing(client):
            # One deserializer for every round, as in a consuming process: it caches the
            # writer schema, fetched here.
            deserializer = AvroDeserializer(
                client, OrderPlaced.AVRO_SCHEMA, from_dict=order_from_dict
            )
            if deserializer(frame, _context(topic)) != order:
                raise Disagreement(
                    "does not read back the frame evp wrote",
                    section=SECTION,
                    case=CONFLUENT_CONSUMER,
                )
            contenders: dict[str, Callable[[], float]] = {
                EVP_SUBSCRIBER: lambda: self.loop.run_until_complete(
                    self._subscribe(settings, count)
                ),
                CONFLUENT_CONSUMER: lambda: _deserializing_consume(
                    self._consumer_config(settings, auto_commit=True), deserializer, topic, count
                ),
                RAW: lambda: _raw_consume(self._consumer_config(settings), topic, count),
            }
            return self._time_consumers(contenders, bus, frame, count)

    def _time_consumers(
        self, contenders: dict[str, Callable[[], float]], bus: EventBus, frame: bytes, count: int
    ) -> list[Row]:
        rounds = 1 if self.quick else 3
        # Decoding alone is timed between the consuming rounds, not once before them, so
        # that the machine's speed drifting during the run moves both sides alike.
        share = dataclasses.replace(self.budget, repeats=max(1, self.budget.repeats // rounds))
        best = dict.fromkeys(contenders, 0.0)
        decode = 0.0
        contenders[EVP_SUBSCRIBER]()  # warm-up: plans, verdicts
        calls = dict.fromkeys(contenders, 0)
        for _ in range(rounds):
            rate = throughput({"decode": lambda: bus.codec.decode(frame, OrderPlaced)}, share)
            decode = max(decode, rate["decode"])
            # As the harness does (and timeit): no garbage collection while timing.
            collecting = gc.isenabled()
            gc.disable()
            try:
                # One after the other: each consumer has closed before the next starts.
                for name, consume in contenders.items():
                    before = self.counter.requests
                    best[name] = max(best[name], consume())
                    calls[name] += self.counter.requests - before
            finally:
                if collecting:
                    gc.enable()
        return _rows(
            "consume",
            "decode",
            typed=best[EVP_SUBSCRIBER],
            confluent=best[CONFLUENT_CONSUMER],
            raw=best[RAW],
            codec=decode,
            calls=calls,
        )

    def _consumer_config(
        self, settings: MessagingSettings, *, auto_commit: bool = False
    ) -> dict[str, Any]:
        """Our subscriber's librdkafka settings for a baseline consumer of a fresh group."""
        config = consumer_config(
            settings,
            bootstrap_servers=self.bootstrap,
            group=f"baseline-{uuid.uuid4().hex[:8]}",
            client_id="bench-baseline",
            protocol=GroupProtocol.CONSUMER,
            embedded=True,
        )
        if auto_commit:
            # What a user of confluent's consumer gets unless they commit themselves.
            del config["enable.auto.commit"], config["enable.auto.offset.store"]
        return config

    async def _subscribe(self, settings: MessagingSettings, count: int) -> float:
        """The best rate (events/s) of a fresh group over a stretch of ``STRETCH`` events."""
        bus = EventBus(settings, service="bench", lookup=self.lookup)
        stretches = _Stretches(count)
        done = asyncio.Event()

        async def handle(event: OrderPlaced, context: MessageContext) -> None:
            if stretches.tick():
                done.set()

        bus.subscriber(group=f"bench-{uuid.uuid4().hex[:8]}", events=(OrderPlaced,))(handle)
        async with bus:
            await asyncio.wait_for(done.wait(), _TIMEOUT_S)
        return stretches.best()


def _rows(
    metric: str,
    codec_metric: str,
    *,
    typed: float,
    confluent: float,
    raw: float,
    codec: float,
    calls: dict[str, int],
) -> list[Row]:
    """The rows of one direction: rates, our ratios, our cost over the codec, registry calls."""
    ours, theirs = (
        (EVP_PUBLISH, CONFLUENT_PRODUCER)
        if metric == "produce"
        else (EVP_SUBSCRIBER, CONFLUENT_CONSUMER)
    )
    cost = 1e6 / typed - 1e6 / codec
    return [
        Row(SECTION, CODEC, codec_metric, codec, RATE),
        Row(SECTION, RAW, metric, raw, RATE),
        Row(SECTION, theirs, metric, confluent, RATE),
        Row(SECTION, ours, metric, typed, RATE, theirs, typed / confluent, RATIO_TARGET),
        Row(SECTION, ours, metric, typed, RATE, RAW, typed / raw),
        Row(SECTION, ours, f"cost over {codec_metric}", cost, COST, at_most=COST_TARGET_US),
        *(
            Row(SECTION, name, "registry calls", calls[name], CALLS, at_most=0)
            for name in (ours, theirs)
        ),
    ]


# -- producing ---------------------------------------------------------------------------------


async def _publish_round(bus: EventBus, batches: Sequence[Sequence[OrderPlaced]]) -> None:
    """Publish ``batches``, two in flight; return when Kafka confirmed every event."""
    previous: asyncio.Future[Any] | None = None
    for batch in batches:
        started = asyncio.ensure_future(bus.publish_batch(batch))
        if previous is not None:
            await previous
        previous = started
    if previous is not None:
        await previous


def _confirmed_round(
    producer: Producer, send: Callable[[int, DeliveryReport], None], topic: str
) -> Callable[[], None]:
    """A round as :func:`_publish_round` runs it, through a confluent-kafka producer.

    ``send(i, report)`` produces batch ``i`` with ``report`` as each message's delivery
    callback; the round waits for the reports of a batch before sending the one after the
    next, and ends when every report has been served.
    """
    reported = 0
    errors: list[KafkaError] = []

    def report(error: KafkaError | None, message: Message) -> None:
        nonlocal reported
        reported += 1
        if error is not None:
            errors.append(error)

    def round_() -> None:
        nonlocal reported
        reported = 0
        for index in range(ROUND_BATCHES):
            send(index, report)
            while reported < index * BATCH:
                producer.poll(_POLL_S)
        if producer.flush(_TIMEOUT_S) or errors:
            failed = ROUND_BATCHES * BATCH - reported + len(errors)
            detail = errors[0].str() if errors else "not confirmed in time"
            raise DeliveryFailed(
                detail, topic=topic, failed=failed, delivered=reported - len(errors)
            )

    return round_


def _serializer(client: SchemaRegistryClient) -> AvroSerializer:
    """confluent's serializer of the registered ``OrderPlaced`` schema, as a producer sets it up.

    The subject is the one evp registers under (not confluent's ``<topic>-value``), and the
    schema is looked up rather than registered: it was registered by the schemas' deployment.
    """
    serializer: AvroSerializer = AvroSerializer(
        client,
        OrderPlaced.AVRO_SCHEMA,
        to_dict=order_to_dict,
        conf={
            "auto.register.schemas": False,
            "subject.name.strategy": lambda _context, _name: OrderPlaced.SUBJECT,
        },
    )
    return serializer


def _check_frame(theirs: bytes | None, ours: bytes) -> None:
    if theirs != ours:
        raise Disagreement(
            f"frames differ: {(theirs or b'').hex()} != {ours.hex()}",
            section=SECTION,
            case=CONFLUENT_PRODUCER,
            baseline=EVP_PUBLISH,
        )


def _context(topic: str) -> SerializationContext:
    return SerializationContext(topic, MessageField.VALUE)


def _orders(count: int) -> list[OrderPlaced]:
    base = sample_order()
    return [dataclasses.replace(base, order_id=uuid.uuid4()) for _ in range(count)]


# -- consuming ---------------------------------------------------------------------------------


class _Stretches:
    """Marks the time every ``STRETCH`` events of a run of ``count``; the best stretch is the rate.

    The harness keeps the best of many short rounds, so that load from elsewhere on the
    machine does not land on one contender; consuming is timed the same way.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self.seen = 0
        self.marks: list[float] = []

    def tick(self) -> bool:
        """Count one event; whether the run is complete."""
        self.seen += 1
        seen = self.seen
        # Events past ``count`` (a topic holding more) would put a one-event span last.
        if seen <= self.count and (seen % STRETCH == 1 or seen == self.count):
            self.marks.append(time.perf_counter())
        return seen >= self.count

    def best(self) -> float:
        """Events per second over the quickest stretch of ``STRETCH`` events."""
        marks = self.marks[: len(self.marks) - 1]  # the last mark ends a shorter stretch
        spans = [later - earlier for earlier, later in itertools.pairwise(marks)]
        return STRETCH / min(spans) if spans else 0.0


def _deserializing_consume(
    config: dict[str, Any], deserializer: AvroDeserializer, topic: str, count: int
) -> float:
    """The best rate (events/s) of confluent's ``DeserializingConsumer`` of a fresh group."""
    consumer = DeserializingConsumer({**config, "value.deserializer": deserializer})
    consumer.subscribe([topic])
    stretches = _Stretches(count)
    deadline = time.monotonic() + _TIMEOUT_S
    try:
        while stretches.seen < count and time.monotonic() < deadline:
            if consumer.poll(_POLL_S) is not None:
                stretches.tick()
    finally:
        consumer.close()
    return stretches.best()


def _raw_consume(config: dict[str, Any], topic: str, count: int) -> float:
    """The best rate (messages/s) of a raw consumer of a fresh group over a stretch."""
    consumer = Consumer(config)
    consumer.subscribe([topic])
    stretches = _Stretches(count)
    deadline = time.monotonic() + _TIMEOUT_S
    try:
        while stretches.seen < count and time.monotonic() < deadline:
            for message in consumer.consume(500, _POLL_S):
                if message.error() is None:
                    message.value()
                    stretches.tick()
    finally:
        consumer.close()
    return stretches.best()


# -- the registry ------------------------------------------------------------------------------


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
