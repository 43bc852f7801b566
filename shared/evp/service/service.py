"""A service as a page of declarations: events, handlers, projections, routes.

::

    service = Service("payments", publishes=(PaymentProcessed, PaymentFailed))

    @service.handles(PaymentRequested, retries=3, timeout=10)
    async def charge(event: PaymentRequested, context: HandlerContext) -> None:
        await context.store.append(stream, [PaymentProcessed.new(...)], expected_version=0)

    service.projection(PaymentsReadModel())     # fed from the service's own store
    service.include(routes.router)              # FastAPI routes
    app = service.app()                         # what `evp serve payments` runs

The kit owns the rest (see :mod:`evp.service.runtime`): start-up and shutdown order, the
outbox relay, idempotent handling, health, metrics, errors, logs and the OpenAPI document.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from importlib.metadata import entry_points
from typing import Any, Literal, TypeVar

import jwt
from fastapi import APIRouter, FastAPI, Request

from evp.avro import Event
from evp.eventstore.postgres import PostgresTransaction
from evp.eventstore.projection import Projection
from evp.metrics import ServiceMetrics
from evp.postgres.migrations import Migration
from evp.service.errors import InvalidService, ServiceStartError, UnknownService
from evp.service.handler import HandlerSpec, ServiceHandler
from evp.service.runtime import ServiceRuntime, kafka_projection_events
from evp.service.saga_doc import SagaDoc
from evp.service.settings import ServiceSettings
from evp.tracing import Tracing
from evp.web.auth import KeySet, LocalKeys, TokenVerifier

__all__ = [
    "SERVICES_GROUP",
    "BackgroundTask",
    "KeyLoader",
    "Service",
    "StartupHook",
    "current_runtime",
    "installed_services",
]

H = TypeVar("H", bound=ServiceHandler)
StartupHook = Callable[[ServiceRuntime], Awaitable[None]]
"""Called once the service's parts run, before it takes requests (seed data, keys)."""
BackgroundTask = Callable[[ServiceRuntime, asyncio.Event], Awaitable[None]]
"""Runs while the service runs (a poller of deadlines, say) and returns once the event is
set: the kit sets it on shutdown, before the consumers' producer closes."""
KeyLoader = Callable[[ServiceRuntime], Awaitable[KeySet]]
"""Gives the key set a token-issuing service signs with, once its database runs."""

SERVICES_GROUP = "evp.services"
"""The entry point group installed services register under, by the name ``evp serve`` takes."""

_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


class Service:
    """What one service is: its name, its events, handlers, projections and routes."""

    def __init__(
        self,
        name: str,
        *,
        publishes: Iterable[type[Event]] = (),
        records: Iterable[type[Event]] = (),
        version: str = "0.1.0",
        description: str = "",
    ) -> None:
        if not _NAME.match(name):
            raise InvalidService("a service name is lower-case, e.g. orders", service=name)
        self.name = name
        self.version = version
        self.description = description
        self.publishes: list[type[Event]] = list(publishes)
        self.records: list[type[Event]] = list(records)
        """Event types it keeps in its store without publishing them (copies of others')."""
        both = {e.FULL_NAME for e in self.publishes} & {e.FULL_NAME for e in self.records}
        if both:
            raise InvalidService(
                f"{', '.join(sorted(both))} cannot be both published and only recorded",
                service=name,
            )
        self.handlers: list[HandlerSpec] = []
        self.store_projections: list[Projection[PostgresTransaction]] = []
        self.kafka_projections: list[
            tuple[Projection[PostgresTransaction], Sequence[type[Event]]]
        ] = []
        self.routers: list[APIRouter] = []
        self.startup_hooks: list[StartupHook] = []
        self.background_tasks: list[BackgroundTask] = []
        self.migrations: list[tuple[str, Sequence[Migration]]] = []
        self.key_loader: KeyLoader | None = None
        self.sagas: list[SagaDoc] = []

    # -- declaring ------------------------------------------------------------------------

    def handles(
        self,
        *events: type[Event],
        group: str | None = None,
        retries: int | None = None,
        timeout: float | None = None,
    ) -> Callable[[H], H]:
        """Declare the decorated function as the handler of ``events``.

        It runs once per event id (duplicates are acknowledged without calling it), in a
        store transaction that commits the events it appends with the mark that it ran.
        ``group`` defaults to the service's name; ``retries`` and ``timeout`` to the
        messaging settings'.
        """
        if not events:
            raise InvalidService(
                "a handler must declare at least one event type", service=self.name
            )

        def register(handler: H) -> H:
            taken = {
                event.FULL_NAME: spec.name
                for spec in self.handlers
                if spec.group == (group or self.name)
                for event in spec.events
            }
            for event in events:
                if event.FULL_NAME in taken:
                    raise InvalidService(
                        f"{event.FULL_NAME} is handled by {taken[event.FULL_NAME]} already",
                        service=self.name,
                    )
            self.handlers.append(
                HandlerSpec(handler, tuple(events), group or self.name, retries, timeout)
            )
            return handler

        return register

    def projection(
        self,
        projection: Projection[PostgresTransaction],
        *,
        source: Literal["store", "kafka"] = "store",
    ) -> None:
        """Keep ``projection`` (a read model with its checkpoint) up to date.

        ``source="store"`` follows the service's own event store; ``"kafka"`` reads the
        projection's event types from their topics (other services' events), once per
        event id.
        """
        names = {p.name for p in self.store_projections} | {
            p.name for p, _ in self.kafka_projections
        }
        if projection.name in names:
            raise InvalidService(f"two projections named {projection.name}", service=self.name)
        if source == "store":
            self.store_projections.append(projection)
        else:
            self.kafka_projections.append((projection, kafka_projection_events(projection)))

    def migrate(self, component: str, migrations: Sequence[Migration]) -> None:
        """Apply ``migrations`` (the read models' tables) to the service's database at start.

        ``component`` names them in the migrations table, apart from the event store's.
        """
        self.migrations.append((component, tuple(migrations)))

    def include(self, router: APIRouter) -> None:
        """Serve ``router``'s routes (with their declared access levels)."""
        self.routers.append(router)

    def on_startup(self, hook: StartupHook) -> StartupHook:
        """Run ``hook`` once the service's parts run, before it takes requests."""
        self.startup_hooks.append(hook)
        return hook

    def background(self, task: BackgroundTask) -> BackgroundTask:
        """Run ``task(runtime, stop)`` while the service runs, after the start-up hooks.

        It must return soon after ``stop`` is set; the service is not ready while it has
        ended (say, with an exception), and the readiness body names it.
        """
        self.background_tasks.append(task)
        return task

    def signs_tokens(self, load_keys: KeyLoader) -> KeyLoader:
        """Declare this service the issuer of bearer tokens (the users service).

        ``load_keys(runtime)`` gives its key set once its parts run and its start-up hooks
        ran, before the first request; its routes then verify tokens locally with that set
        (issuer and audience from the settings) instead of fetching a JWKS document.
        """
        if self.key_loader is not None:
            raise InvalidService("the signing keys are declared already", service=self.name)
        self.key_loader = load_keys
        return load_keys

    def documents_saga(self, saga: SagaDoc) -> None:
        """Describe ``saga``, which this service orchestrates, in its AsyncAPI document."""
        if any(known.name == saga.name for known in self.sagas):
            raise InvalidService(f"two sagas named {saga.name}", service=self.name)
        self.sagas.append(saga)

    # -- running --------------------------------------------------------------------------

    def app(
        self,
        settings: ServiceSettings | None = None,
        *,
        on_ready: Callable[[], None] | None = None,
        verifier: TokenVerifier | None = None,
        tracing: Tracing | None = None,
    ) -> FastAPI:
        """The ASGI app of this service: routes, health, metrics, OpenAPI, AsyncAPI
        (``/asyncapi.json``), and a lifespan that runs its parts (settings from the
        environment unless given).

        ``on_ready`` is called once every part runs, before the first request;
        ``verifier`` checks bearer tokens instead of the one the settings describe (the
        users service verifies its own tokens with its own keys, see :meth:`signs_tokens`).
        """
        from evp.service.web import service_app

        resolved = settings or ServiceSettings.from_env(self.name)
        metrics = ServiceMetrics(self.name)
        traces = tracing or Tracing.from_env(self.name)
        # One per app, not per service: two apps of one service (replicas in a test) may
        # run on different databases, hence with different keys.
        own_keys = _LoadedKeys() if verifier is None and self.key_loader is not None else None
        if own_keys is not None:
            verifier = TokenVerifier(
                own_keys, issuer=resolved.token_issuer, audience=resolved.token_audience
            )

        @contextlib.asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            async with ServiceRuntime.running(
                self, resolved, metrics=metrics, tracing=traces
            ) as runtime:
                if own_keys is not None and self.key_loader is not None:
                    try:
                        own_keys.load(await self.key_loader(runtime))
                    except Exception as error:
                        raise ServiceStartError("signing keys", error) from error
                app.state.runtime = runtime
                if on_ready is not None:
                    on_ready()
                yield

        return service_app(
            self,
            resolved,
            metrics=metrics,
            lifespan=lifespan,
            verifier=verifier,
            tracer=traces.tracer if traces.enabled else None,
        )


class _LoadedKeys:
    """The public halves of a key set known only once the service runs (read at start)."""

    def __init__(self) -> None:
        self._keys: LocalKeys | None = None

    def load(self, keys: KeySet) -> None:
        """Verify with ``keys`` from now on."""
        self._keys = LocalKeys(keys)

    async def key(self, kid: str) -> jwt.PyJWK | None:
        """The public key named ``kid``; none before the keys are loaded."""
        return None if self._keys is None else await self._keys.key(kid)


def installed_services(names: Iterable[str] | None = None) -> dict[str, Service]:
    """The installed services called ``names`` (all of them when ``None``), by name.

    Loading one imports its ``app`` module, which only declares: nothing starts until its
    :meth:`Service.app` runs. Raises :class:`UnknownService` for a name no entry point has.
    """
    points = {point.name: point for point in entry_points(group=SERVICES_GROUP)}
    wanted = sorted(points) if names is None else list(names)
    found: dict[str, Service] = {}
    for name in wanted:
        point = points.get(name)
        service = None if point is None else point.load()
        if not isinstance(service, Service):
            raise UnknownService(name, known=sorted(points))
        found[name] = service
    return found


def current_runtime(request: Request) -> ServiceRuntime:
    """The running service behind a request: a FastAPI dependency for routes."""
    runtime: Any = getattr(request.app.state, "runtime", None)
    if not isinstance(runtime, ServiceRuntime):
        raise RuntimeError("the service is not running (no lifespan)")
    return runtime
