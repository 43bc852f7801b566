"""Kafka unreachable for a while: commands that need only the service's own store go on,
the outbox holds their events, and everything is delivered afterwards, in order per aggregate.

The broker is a mock cluster of the test's own (:mod:`tests.faults.brokers`): taken down, it
closes every connection and refuses new ones, as a broker that crashed or a network that
dropped it would look to the clients; brought back, it has its topics and offsets.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from evp.avro import Event
from evp.events import EmailChanged, ProfileUpdated, UserLoggedIn, UserRegistered
from evp.messaging import MessagingSettings
from evp.postgres.supply import DatabaseSupply
from evp.service.inprocess import RunningService, running_service
from evp.service.testing import service_settings
from evp.testing.kafka import messaging_settings_for
from shop.users.app import service as users
from shop.users.domain import stream_of
from tests.faults.brokers import ControllableKafka
from tests.faults.traffic import recording
from tests.messaging.probes import EventRecorder

USER_EVENTS = (UserRegistered, UserLoggedIn, ProfileUpdated, EmailChanged)
OUTAGE_S = 5.0
"""How long the broker stays down (at least; the commands run inside it)."""
COMMAND_BOUND_S = 3.0
"""No command may take longer than this while the broker is down."""
DELIVERY_BOUND_S = 30.0
"""Everything stored during the outage reaches a consumer within this once it is back
(librdkafka reconnects with a backoff of up to 10 s by default)."""
CUSTOMERS = 3
PASSWORD = "a long password"


@pytest.fixture
def kafka() -> Iterator[ControllableKafka]:
    """A broker of this test's own, which the test takes down and brings back."""
    with ControllableKafka() as broker:
        yield broker


@pytest.fixture
def delivery_timeout_ms(request: pytest.FixtureRequest) -> int:
    """The producer's ``delivery.timeout.ms``: the runtime's default unless a test says."""
    return int(getattr(request, "param", MessagingSettings(None).delivery_timeout_ms))


@pytest.fixture
def settings(
    kafka: ControllableKafka, catalog_registry: str, topic_prefix: str, delivery_timeout_ms: int
) -> MessagingSettings:
    """Messaging on the controllable broker and the catalog registry."""
    return messaging_settings_for(
        kafka.bootstrap_servers,
        catalog_registry,
        topic_prefix,
        embedded=True,
        delivery_timeout_ms=delivery_timeout_ms,
    )


@pytest.fixture
async def user_service(
    settings: MessagingSettings, evp_database_supply: DatabaseSupply
) -> AsyncIterator[RunningService]:
    """The users service on the controllable broker, with a database of its own."""
    name, url = evp_database_supply.take()
    try:
        config = service_settings("users", database_url=url, messaging=settings)
        async with running_service(users, config) as running:
            yield running
    finally:
        evp_database_supply.release(name)


@pytest.fixture
async def observer(settings: MessagingSettings) -> AsyncIterator[EventRecorder]:
    """A consumer group of every users event, recording what it is given."""
    async with recording(settings, USER_EVENTS) as (_, recorder):
        yield recorder


async def _customer_session(service: RunningService, name: str) -> uuid.UUID:
    """Register, log in, rename twice and change the email address: five events of one
    user, each command answered within :data:`COMMAND_BOUND_S`."""

    async def timed(method: str, path: str, body: dict[str, Any], **kw: Any) -> Any:
        started = time.monotonic()
        response = await service.http.request(method, path, json=body, **kw)
        elapsed = time.monotonic() - started
        assert response.is_success, response.text
        assert elapsed < COMMAND_BOUND_S, f"{method} {path} took {elapsed:.1f} s"
        return response.json()

    email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    created = await timed("POST", "/users", {"email": email, "password": PASSWORD, "name": name})
    token = await timed("POST", "/auth/token", {"email": email, "password": PASSWORD})
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    await timed("PATCH", "/users/me", {"name": f"{name} Lovelace"}, headers=auth)
    await timed("PATCH", "/users/me", {"email": f"new-{email}"}, headers=auth)
    await timed("PATCH", "/users/me", {"name": f"{name} King"}, headers=auth)
    return uuid.UUID(created["user_id"])


def _first_seen(events: list[Event]) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Each user's event ids in the order first received (a redelivery adds nothing)."""
    seen: dict[uuid.UUID, list[uuid.UUID]] = {}
    for event in events:
        ids = seen.setdefault(getattr(event, "user_id"), [])  # noqa: B009 - a union of types
        if event.envelope.event_id not in ids:
            ids.append(event.envelope.event_id)
    return seen


async def _wait_until_not_ready(service: RunningService, part: str) -> dict[str, Any]:
    async with asyncio.timeout(15):
        while True:
            response = await service.http.get("/health/ready")
            checks: dict[str, Any] = response.json()["checks"]
            if response.status_code == 503 and not checks[part]["ok"]:
                return checks
            await asyncio.sleep(0.1)


async def _outage(
    kafka: ControllableKafka, service: RunningService, observer: EventRecorder
) -> None:
    """A warm-up session, then three customers' sessions (fifteen commands) while the
    broker is down for :data:`OUTAGE_S`; then the broker is back and every stored event
    must reach ``observer``, each user's in the order of its stream."""
    warm_up = await _customer_session(service, "Warm")
    await observer.wait_for(5)

    kafka.down()
    down_since = time.monotonic()
    checks = await _wait_until_not_ready(service, "kafka")
    assert checks["database"]["ok"]
    customers = await asyncio.gather(
        *(_customer_session(service, f"Ada{n}") for n in range(CUSTOMERS))
    )
    relay = service.runtime.relay
    assert await relay.lag() >= 5 * CUSTOMERS, "the outbox holds what the commands stored"
    assert len(observer.calls) == 5, "nothing got through while the broker was down"
    await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_since)))

    kafka.up()
    await observer.wait_for(5 * (CUSTOMERS + 1), timeout=DELIVERY_BOUND_S)
    async with asyncio.timeout(DELIVERY_BOUND_S):
        while await relay.lag() > 0 or (await service.http.get("/health/ready")).is_error:
            await asyncio.sleep(0.1)

    received = _first_seen(observer.events)
    assert set(received) == {warm_up, *customers}
    for user_id in (warm_up, *customers):
        stored = await service.runtime.store.history(stream_of(user_id))
        assert len(stored) == 5
        assert received[user_id] == [r.event.envelope.event_id for r in stored]


async def test_commands_succeed_while_kafka_is_down_and_their_events_follow_in_order(
    kafka: ControllableKafka, user_service: RunningService, observer: EventRecorder
) -> None:
    """With the broker down for 5 s, fifteen commands of the users service answer within
    3 s each from its own store; once the broker is back, every stored event reaches a
    consumer within 30 s, each user's in the order of its stream."""
    await _outage(kafka, user_service, observer)


@pytest.mark.parametrize("delivery_timeout_ms", [2000], indirect=True)
async def test_an_outage_longer_than_the_delivery_timeout_is_retried_from_the_outbox(
    kafka: ControllableKafka, user_service: RunningService, observer: EventRecorder
) -> None:
    """With sends given up after 2 s and the broker down for 5 s, the relay's publishing
    fails and is retried from its checkpoint: nothing is lost and each user's events still
    arrive in the order of its stream."""
    await _outage(kafka, user_service, observer)
    assert user_service.runtime.relay.stats.failures >= 1
