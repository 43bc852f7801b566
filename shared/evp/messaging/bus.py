"""The service-facing event bus: declare subscribers, start it in the app's lifespan, publish.

::

    bus = EventBus.from_env(service="payments", publishes=(PaymentProcessed, PaymentFailed))

    @bus.subscriber(group="payments", events=(PaymentRequested, OrderCancelled), retries=3)
    async def handle(event: PaymentRequested | OrderCancelled, context: MessageContext) -> None:
        await bus.publish(PaymentProcessed.new(..., source="payments"))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with bus:  # producer, topics, schema ids, then the consumers
            yield

Starting resolves the schema id of every declared type, so a service whose schemas are not
registered (strict mode) fails at start-up rather than on its first publish. Without
``KAFKA_BOOTSTRAP_SERVERS`` every bus of the process shares the embedded broker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Self, TypeVar

from evp.avro import AvroCodec, SchemaLookup
from evp.avro.record import Event
from evp.messaging.config import (
    MessagingSettings,
    admin_config,
    consumer_config,
    producer_config,
)
from evp.messaging.dead_letter import DeadLettered
from evp.messaging.embedded import shared_embedded_kafka
from evp.messaging.errors import BusStateError
from evp.messaging.processor import Backoff, MessageProcessor
from evp.messaging.producer import AsyncProducer, Delivery
from evp.messaging.publisher import Published, PublishedBatch, Publisher
from evp.messaging.registry_lookup import RegistrySchemaLookup
from evp.messaging.subscriber import Subscriber
from evp.messaging.subscription import Handler, Subscription
from evp.messaging.topics import TopicAdmin, TopicNames
from evp.messaging.verdicts import ReadVerdicts
from evp.metrics import ServiceMetrics

__all__ = ["EventBus"]

E = TypeVar("E", bound=Event)
H = TypeVar("H", bound=Handler)

_log = logging.getLogger("evp.messaging.bus")


class EventBus:
    """Publishes a service's events and runs its subscribers, one consumer per group."""

    def __init__(
        self,
        settings: MessagingSettings,
        *,
        service: str,
        publishes: Iterable[type[Event]] = (),
        lookup: SchemaLookup | None = None,
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        """Where consumers count dead letters, timeouts and fetch restarts (optional)."""
        self.service = service
        self.topics = TopicNames(settings.topic_prefix)
        self._publishes: list[type[Event]] = list(publishes)
        self._owned_lookup = (
            RegistrySchemaLookup.from_settings(settings) if lookup is None else None
        )
        self.lookup: SchemaLookup = lookup or self._owned_lookup  # type: ignore[assignment]
        self.codec = AvroCodec(self.lookup)
        self._verdicts = ReadVerdicts()
        self._subscriptions: dict[str, Subscription] = {}
        self._subscribers: list[Subscriber] = []
        self._dead_letter_observers: list[Callable[[DeadLettered], None]] = []
        self._producer: AsyncProducer | None = None
        self._publisher: Publisher | None = None
        self._bootstrap: str | None = None
        self._admin: TopicAdmin | None = None
        self._embedded = False

    @classmethod
    def from_env(cls, *, service: str, publishes: Iterable[type[Event]] = ()) -> EventBus:
        """A bus configured from the environment (see :class:`MessagingSettings`)."""
        return cls(MessagingSettings.from_env(), service=service, publishes=publishes)

    # -- declaring ---------------------------------------------------------------------------

    def subscriber(
        self,
        *,
        group: str,
        events: Sequence[type[Event]],
        retries: int | None = None,
        timeout: float | None = None,
    ) -> Callable[[H], H]:
        """Declare the decorated async function as the handler of ``events`` in ``group``.

        The handler is called with each event of those types (decoded into the declared
        class, whichever compatible schema version wrote it) and its
        :class:`~evp.messaging.message.MessageContext`. A handler that raises is retried
        ``retries`` times (default: the settings'), with backoff, then its message is
        dead-lettered. An attempt running longer than ``timeout`` seconds (default: the
        settings' ``handler_timeout``) is cut off and counts as failed, so one hung handler
        cannot hold the group's capacity. Declare subscribers before the bus starts.
        """

        def register(handler: H) -> H:
            if self._producer is not None:
                raise BusStateError(
                    "declare subscribers before starting the bus", service=self.service
                )
            subscription = self._subscriptions.setdefault(group, Subscription(group))
            subscription.add(
                events,
                handler,
                retries=self.settings.handler_retries if retries is None else retries,
                timeout=self.settings.handler_timeout if timeout is None else timeout,
            )
            return handler

        return register

    def on_dead_letter(self, observer: Callable[[DeadLettered], None]) -> None:
        """Call ``observer`` (on the event loop; keep it quick) after each confirmed dead letter.

        For metrics and alerts; the dead letter itself is already safe in ``<topic>.dlq``.
        """
        self._dead_letter_observers.append(observer)

    def declare(self, *event_types: type[Event]) -> None:
        """Declare event types this service publishes, so their schema ids resolve at start-up."""
        self._publishes.extend(event_types)

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the bus has started and not yet stopped."""
        return self._producer is not None

    @property
    def bootstrap_servers(self) -> str:
        """The Kafka bootstrap address in use (the embedded broker's when none is configured)."""
        if self._bootstrap is None:
            self._bootstrap = (
                self.settings.bootstrap_servers or shared_embedded_kafka().bootstrap_servers
            )
        return self._bootstrap

    async def start(self, *, consume: bool = True) -> None:
        """Start the producer, create missing topics, resolve schema ids, start the consumers.

        With ``consume=False`` the consumers wait for :meth:`start_consumers`: a service
        first finishes setting itself up, so that no handler runs before it can.
        """
        if self._producer is not None:
            return
        embedded = self.settings.bootstrap_servers is None
        bootstrap = self.bootstrap_servers
        admin = TopicAdmin(
            admin_config(self.settings, bootstrap_servers=bootstrap, client_id=self.service)
        )
        producer = AsyncProducer(
            producer_config(self.settings, bootstrap_servers=bootstrap, client_id=self.service)
        )
        producer.start()
        self._producer = producer
        self._admin = admin
        self._publisher = Publisher(
            producer, self.codec, self.lookup, topics=self.topics, admin=admin
        )
        self._embedded = embedded
        try:
            await self._publisher.prepare(self._publishes)
            await asyncio.get_running_loop().run_in_executor(None, self._ensure_topics, admin)
            if consume:
                await self.start_consumers()
        except BaseException:
            await self.stop()
            raise

    async def start_consumers(self) -> None:
        """Join the consumer groups (after :meth:`start` with ``consume=False``)."""
        producer = self.producer
        if self._subscribers:
            return
        for subscription in self._subscriptions.values():
            subscriber = self._subscriber(
                subscription, producer, self.bootstrap_servers, embedded=self._embedded
            )
            subscriber.start()
            self._subscribers.append(subscriber)

    async def stop_consumers(self) -> None:
        """Stop the consumers gracefully (running handlers finish); publishing goes on.

        A service stops consuming first, so that what its last handlers stored can still
        be relayed before the producer closes.
        """
        subscribers, self._subscribers = self._subscribers, []
        await asyncio.gather(*(s.stop() for s in subscribers))

    async def stop(self) -> None:
        """Stop the consumers gracefully, wait for outstanding deliveries, close the clients."""
        await self.stop_consumers()
        producer, self._producer = self._producer, None
        self._publisher = None
        self._admin = None
        if producer is not None:
            await producer.close()
        if self._owned_lookup is not None:
            self._owned_lookup.close()

    async def check_kafka(self, timeout: float = 2.0) -> str:
        """Ask Kafka for its metadata; what answered. Raises :class:`BrokerError` if none did."""
        admin = self._admin
        if admin is None or self._producer is None:
            raise BusStateError("the bus is not running", service=self.service)
        count = await asyncio.get_running_loop().run_in_executor(
            None, lambda: admin.brokers(timeout=timeout)
        )
        return f"{count} broker(s) at {self.bootstrap_servers}"

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def wait_assigned(self) -> None:
        """Wait until every consumer of the bus has been given its first partitions."""
        await asyncio.gather(*(s.wait_assigned() for s in self._subscribers))

    @property
    def subscribers(self) -> list[Subscriber]:
        """The running consumers, one per group."""
        return list(self._subscribers)

    # -- publishing --------------------------------------------------------------------------

    @property
    def publisher(self) -> Publisher:
        """The running publisher (also the :class:`~evp.messaging.publisher.RawPublisher`)."""
        if self._publisher is None:
            raise BusStateError(
                "the bus is not running; use `async with bus:`", service=self.service
            )
        return self._publisher

    @property
    def producer(self) -> AsyncProducer:
        """The running producer, for messages that are not events (dead-letter markers)."""
        if self._producer is None:
            raise BusStateError(
                "the bus is not running; use `async with bus:`", service=self.service
            )
        return self._producer

    async def publish(self, event: E) -> Published[E]:
        """Publish ``event``; see :meth:`Publisher.publish`."""
        return await self.publisher.publish(event)

    async def publish_batch(self, events: Sequence[Event]) -> PublishedBatch[Event]:
        """Publish ``events``, wait for every confirmation; see :meth:`Publisher.publish_batch`."""
        return await self.publisher.publish_batch(events)

    async def publish_raw(
        self, topic: str, key: bytes | None, value: bytes, headers: Sequence[tuple[str, bytes]]
    ) -> Delivery:
        """Publish already-framed bytes; see :class:`~evp.messaging.publisher.RawPublisher`."""
        return await self.publisher.publish_raw(topic, key, value, headers)

    # -- internals ---------------------------------------------------------------------------

    def _ensure_topics(self, admin: TopicAdmin) -> None:
        topics = {
            topic
            for subscription in self._subscriptions.values()
            for topic in subscription.topics(self.topics.of)
        }
        dead_letters = {TopicNames.dead_letter(t): 1 for t in topics}
        admin.ensure([*topics, *dead_letters], partitions=dead_letters)

    def _subscriber(
        self, subscription: Subscription, producer: AsyncProducer, bootstrap: str, *, embedded: bool
    ) -> Subscriber:
        settings = self.settings
        holder: list[Subscriber] = []
        processor = MessageProcessor(
            subscription,
            codec=self.codec,
            verdicts=self._verdicts,
            producer=producer,
            backoff=Backoff(settings.retry_backoff, settings.retry_backoff_max),
            stopping=lambda: bool(holder) and holder[0].stopping,
            observers=self._dead_letter_observers,
            metrics=self.metrics,
        )
        subscriber = Subscriber(
            group=subscription.group,
            topics=subscription.topics(self.topics.of),
            config=consumer_config(
                settings,
                bootstrap_servers=bootstrap,
                group=settings.topic_prefix + subscription.group,
                client_id=f"{self.service}.{subscription.group}",
                protocol=settings.protocol_for(embedded=embedded),
                embedded=embedded,
            ),
            processor=processor,
            max_in_flight=settings.max_in_flight,
            shutdown_timeout=settings.shutdown_timeout,
            commit_interval=settings.commit_interval,
            close_timeout=settings.close_timeout,
            metrics=self.metrics,
        )
        holder.append(subscriber)
        return subscriber
