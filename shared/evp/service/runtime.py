"""A running service: its database, event store, bus, outbox relay, projections and health.

:meth:`ServiceRuntime.running` starts the parts in dependency order, each only once the
one before it works, and stops them in reverse:

1. the database (the embedded Postgres, started inside the running loop, when no URL is
   set) and the event store's migrations;
2. the bus: producer, schema ids of every published type (strict mode refuses to start
   when one is not registered), topics;
3. the outbox relay, routed by the bus (so ``EVP_TOPIC_PREFIX`` holds);
4. the projections fed from the store, and the start-up hooks;
5. the consumers, so that no handler runs before the hooks have set the service up; then
   the background tasks.

On the way down the consumers stop first and their running handlers finish; then the
projections and the relay, which gets one last chance to publish what those handlers
stored; then the producer, the pool and the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import httpx
from opentelemetry import trace

from evp.avro import Event
from evp.events import EVENT_TYPES
from evp.eventstore.errors import PublishFailed, RecorderError
from evp.eventstore.idempotency import TrackedProcessedEvents
from evp.eventstore.outbox import OutboxRelay, TopicRouting
from evp.eventstore.postgres import PostgresRecorder, PostgresTransaction
from evp.eventstore.projection import Projection, ProjectionRunner, project_once
from evp.eventstore.store import EventStore
from evp.messaging.bus import EventBus
from evp.messaging.headers import EVENT_TYPE, TRACEPARENT, header
from evp.messaging.message import MessageContext
from evp.messaging.producer import Delivery
from evp.metrics import ConsumerLag, OutboxState, Outcome, ServiceMetrics
from evp.postgres.migrations import Migration, migrate
from evp.service.errors import ServiceStartError
from evp.service.outbox import relay_of
from evp.tracing import Tracing, parent_of

if TYPE_CHECKING:
    from evp.service.service import Service
    from evp.service.settings import ServiceSettings

__all__ = ["CHECKS", "Check", "ServiceRuntime"]

_log = logging.getLogger("evp.service")
_OBSERVE_INTERVAL_S = 1.0

Check = Callable[[], Awaitable[str]]
"""A readiness check: returns what it saw when the part works, raises when it does not."""

CHECKS = ("database", "kafka", "registry", "outbox", "consumers", "projections", "tasks")
"""The parts ``/health/ready`` reports on, in order."""


class _CountingOutlet:
    """The bus as the relay's outlet, counting what it publishes by event type."""

    def __init__(self, bus: EventBus, metrics: ServiceMetrics, tracer: trace.Tracer) -> None:
        self._bus = bus
        self._metrics = metrics
        self._tracer = tracer

    @property
    def topics(self) -> TopicRouting:
        return self._bus.topics

    async def publish_raw(
        self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
    ) -> Delivery:
        kind = (header(headers, EVENT_TYPE) or b"unknown").decode()
        # A child of the event's own span in its flow (the traceparent the relay sends).
        with self._tracer.start_as_current_span(
            f"publish {kind}",
            context=parent_of(header(headers, TRACEPARENT)),
            kind=trace.SpanKind.PRODUCER,
            attributes={"messaging.destination.name": topic, "evp.event_type": kind},
        ):
            delivery = await self._bus.publish_raw(topic, key, value, headers)
        self._metrics.published(kind)
        return delivery


class ServiceRuntime:
    """The parts of one running service instance, for its routes, handlers and probes."""

    def __init__(
        self,
        service: Service,
        settings: ServiceSettings,
        *,
        metrics: ServiceMetrics,
        recorder: PostgresRecorder,
        bus: EventBus,
        database_url: str,
        tracing: Tracing | None = None,
    ) -> None:
        self.service = service
        self.tracing = tracing or Tracing.disabled()
        self.settings = settings
        self.metrics = metrics
        self.recorder = recorder
        self.bus = bus
        self.database_url = database_url
        self.store: EventStore[PostgresTransaction] = EventStore(recorder, bus.codec)
        self.processed = TrackedProcessedEvents(recorder)
        self.relay: OutboxRelay = relay_of(
            recorder,
            _CountingOutlet(bus, metrics, self.tracing.tracer),
            local=[event.FULL_NAME for event in service.records],
        )
        recorder.on_commit(self.relay.wake)
        self.runners = [
            ProjectionRunner(self.store, projection) for projection in service.store_projections
        ]
        self.state: dict[str, Any] = {}
        """Room for what a service's start-up hooks set up (clients, keys, caches)."""
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stop = asyncio.Event()
        self._outbox = OutboxState(0, 0)

    # -- starting and stopping ------------------------------------------------------------

    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls,
        service: Service,
        settings: ServiceSettings,
        *,
        metrics: ServiceMetrics,
        tracing: Tracing | None = None,
    ) -> AsyncIterator[ServiceRuntime]:
        """Start ``service`` with ``settings``; stop it, in reverse order, on leaving."""
        async with contextlib.AsyncExitStack() as stack:
            database_url = await _step("database", settings.database.open(stack))
            recorder = await _step("event store", PostgresRecorder.connect(database_url))
            stack.push_async_callback(recorder.close)
            for component, migrations in service.migrations:
                await _step(f"migrations of {component}", _migrate(recorder, component, migrations))
            bus = EventBus(
                settings.messaging,
                service=service.name,
                publishes=service.publishes,
                metrics=metrics,
            )
            traces = tracing or Tracing.disabled()
            # Flushed last, off the loop: the spans of the final handlers and publishes too.
            stack.push_async_callback(asyncio.to_thread, traces.shutdown)
            runtime = cls(
                service,
                settings,
                metrics=metrics,
                recorder=recorder,
                bus=bus,
                database_url=database_url,
                tracing=traces,
            )
            runtime._subscribe()
            await _step("kafka and the schema registry", bus.start(consume=False))
            await _step(
                "the event store's schemas",
                runtime.store.prepare([*service.publishes, *service.records]),
            )
            stack.push_async_callback(bus.stop)
            stack.push_async_callback(runtime._stop_background)
            runtime._start_background()
            for hook in service.startup_hooks:
                await _step(f"start-up hook {_name_of(hook)}", hook(runtime))
            # Consumers last: no handler runs before the hooks have set the service up.
            await _step("the consumer groups", bus.start_consumers())
            for task in service.background_tasks:
                runtime._task(f"task {_name_of(task)}", task(runtime, runtime._stop))
            _log.info("service %s: started", service.name)
            try:
                yield runtime
            finally:
                _log.info("service %s: stopping", service.name)
                # Consumers first: their running handlers finish and store what they emit,
                # which the relay (stopped next, by the stack) still publishes.
                await bus.stop_consumers()

    def _subscribe(self) -> None:
        for spec in self.service.handlers:
            self.bus.subscriber(
                group=spec.group, events=spec.events, retries=spec.retries, timeout=spec.timeout
            )(spec.bind(self, self.processed))
        for projection, events in self.service.kafka_projections:
            self.bus.subscriber(
                group=projection_group(self.service.name, projection), events=events
            )(self._projector(projection))

    def _projector(
        self, projection: Projection[PostgresTransaction]
    ) -> Callable[[Event, MessageContext], Awaitable[None]]:
        store, metrics = self.store, self.metrics
        group = projection_group(self.service.name, projection)

        async def project(event: Event, context: MessageContext) -> None:
            new = await project_once(store, projection, event)
            outcome = Outcome.HANDLED if new else Outcome.DUPLICATE
            metrics.handled(group, event.FULL_NAME, outcome, 0.0)

        project.__qualname__ = f"projection {projection.name}"
        return project

    def _start_background(self) -> None:
        self._task("relay", self._relay())
        for runner in self.runners:
            self._task(f"projection {runner.projection.name}", runner.run(self._stop))
        self._task("observer", self._observe())
        self.metrics.watch_outbox(lambda: self._outbox)
        self.metrics.watch_consumer_lag(self._consumer_lag)

    def _task(self, name: str, work: Awaitable[None]) -> None:
        async def run() -> None:
            await work

        self._tasks[name] = asyncio.create_task(run(), name=f"{self.service.name} {name}")

    async def _relay(self) -> None:
        await self.relay.run(self._stop)
        # Stopping: one last pass, so what the last handlers stored goes out now. If it
        # cannot, nothing is lost: the events wait in the outbox for the next start.
        try:
            async with asyncio.timeout(self.settings.messaging.shutdown_timeout):
                await self.relay.drain()
        except (TimeoutError, PublishFailed, RecorderError) as error:
            _log.warning(
                "service %s: events left in the outbox at stop: %s", self.service.name, error
            )

    async def _stop_background(self) -> None:
        self._stop.set()
        tasks = list(self._tasks.values())
        _, late = await asyncio.wait(tasks, timeout=self.settings.messaging.shutdown_timeout)
        for task in late:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for name, result in zip(self._tasks, results, strict=True):
            if isinstance(result, Exception):
                _log.error("service %s: %s ended with %r", self.service.name, name, result)

    # -- observing ------------------------------------------------------------------------

    async def _observe(self) -> None:
        """Keep the figures that metrics read synchronously (outbox lag, parked streams)."""
        while not self._stop.is_set():
            try:
                lag = await self.relay.lag()
                parked = len(await self.relay.parked_streams())
            except RecorderError as error:
                # The database is down: readiness says so; the gauges keep their last value.
                _log.debug("service %s: outbox figures unavailable: %s", self.service.name, error)
            else:
                self._outbox = OutboxState(lag, parked)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), _OBSERVE_INTERVAL_S)

    def _consumer_lag(self) -> Iterable[ConsumerLag]:
        for subscriber in self.bus.subscribers:
            for (topic, partition), messages in subscriber.lag().items():
                yield ConsumerLag(subscriber.group, topic, partition, messages)

    # -- readiness --------------------------------------------------------------------------

    def checks(self) -> dict[str, Check]:
        """The readiness checks of this service, by the names in :data:`CHECKS`."""
        return {
            "database": self._check_database,
            "kafka": self._check_kafka,
            "registry": self._check_registry,
            "outbox": self._check_outbox,
            "consumers": self._check_consumers,
            "projections": self._check_projections,
            "tasks": self._check_tasks,
        }

    async def _check_database(self) -> str:
        async with self.recorder.pool.acquire() as connection:
            await connection.fetchval("SELECT 1")
        return "reachable"

    async def _check_kafka(self) -> str:
        return await self.bus.check_kafka(timeout=self.settings.readiness_timeout)

    async def _check_registry(self) -> str:
        url = self.settings.messaging.schema_registry_url.rstrip("/")
        async with httpx.AsyncClient(timeout=self.settings.readiness_timeout) as client:
            response = await client.get(f"{url}/config", auth=_registry_auth(self.settings))
        if response.status_code >= 500:
            raise RuntimeError(f"the registry answered {response.status_code}")
        return "reachable"

    async def _check_outbox(self) -> str:
        task = self._tasks.get("relay")
        if task is None or task.done():
            raise RuntimeError("the outbox relay is not running")
        error = self.relay.stats.last_error
        if error is not None:
            raise RuntimeError(f"publishing fails: {error}")
        parked = await self.relay.parked_streams()
        lag = await self.relay.lag()
        detail = f"{lag} event(s) waiting"
        if parked:
            names = ", ".join(p.stream_id for p in parked[:5])
            detail += f"; {len(parked)} stream(s) parked ({names}): see `evp outbox list`"
        return detail

    async def _check_consumers(self) -> str:
        subscribers = self.bus.subscribers
        failing = [h.detail for h in (s.health() for s in subscribers) if not h.ok]
        if failing:
            raise RuntimeError("; ".join(failing))
        return f"{len(subscribers)} group(s) fetching"

    async def _check_tasks(self) -> str:
        tasks = {n: t for n, t in self._tasks.items() if n.startswith("task ")}
        ended = [name.removeprefix("task ") for name, task in tasks.items() if task.done()]
        if ended:
            raise RuntimeError(f"ended: {', '.join(ended)}")
        return f"{len(tasks)} running"

    async def _check_projections(self) -> str:
        stopped = [
            name
            for name, task in self._tasks.items()
            if name.startswith("projection ") and task.done()
        ]
        if stopped:
            raise RuntimeError(f"stopped: {', '.join(stopped)}")
        return f"{len(self.runners)} running"


def _registry_auth(settings: ServiceSettings) -> httpx.BasicAuth | None:
    credentials = settings.messaging.schema_registry_credentials
    if credentials is None:
        return None
    return httpx.BasicAuth(credentials.user, credentials.password.reveal())


async def _migrate(
    recorder: PostgresRecorder, component: str, migrations: Sequence[Migration]
) -> None:
    async with recorder.pool.acquire() as connection:
        await migrate(connection, component, migrations)


async def _step(what: str, work: Awaitable[Any]) -> Any:
    """Await one start-up step, naming it in the error if it fails."""
    try:
        return await work
    except Exception as error:
        raise ServiceStartError(what, error) from error


def _name_of(hook: object) -> str:
    return getattr(hook, "__qualname__", repr(hook))


def projection_group(service: str, projection: Projection[Any]) -> str:
    """The consumer group a Kafka-fed projection of ``service`` reads with."""
    return f"{service}.{projection.name}"


def kafka_projection_events(projection: Projection[Any]) -> Sequence[type[Event]]:
    """The event classes a Kafka-fed projection subscribes to (every known one when ``None``)."""
    wanted = projection.event_types
    if wanted is None:
        return list(EVENT_TYPES.values())
    return [EVENT_TYPES[name] for name in sorted(wanted) if name in EVENT_TYPES]
