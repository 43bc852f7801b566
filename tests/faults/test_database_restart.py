"""A service's database restarted under it: the service says it is not ready while the
database is away, and works again once it is back, without being restarted itself.

The payments service runs on an embedded Postgres of these tests' own (not the session's
shared server), which each test stops and starts again on the same data directory, as a
database server restarted by its operator would be.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from evp.events import PaymentFailed, PaymentProcessed
from evp.messaging import EventBus, MessagingSettings
from evp.postgres import EmbeddedPostgres, ensure_database, unique_name
from evp.service.inprocess import RunningService, running_service
from evp.service.testing import service_settings
from shop.payments.app import service as payments
from tests.faults.traffic import VERIFIER, dead_lettered, payment_request, recording
from tests.messaging.probes import EventRecorder

RECOVERY_BOUND_S = 15.0
"""The service is ready again within this once its database accepts connections."""


@pytest.fixture(scope="module")
def postgres() -> Iterator[EmbeddedPostgres]:
    """A Postgres server of these tests' own, in a temporary directory (each test stops
    and starts it, leaving it running)."""
    with tempfile.TemporaryDirectory(prefix="evp-fault-postgres-") as parent:
        server = EmbeddedPostgres(Path(parent) / "data", durable=False)
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
async def bank(
    postgres: EmbeddedPostgres, messaging_settings: MessagingSettings
) -> AsyncIterator[RunningService]:
    """The payments service on the test's own Postgres."""
    url = await ensure_database(postgres.url(), unique_name("payments"))
    settings = service_settings("payments", database_url=url, messaging=messaging_settings)
    async with running_service(payments, settings, verifier=VERIFIER) as running:
        yield running


@pytest.fixture
async def orders(
    messaging_settings: MessagingSettings,
) -> AsyncIterator[tuple[EventBus, EventRecorder]]:
    """A bus playing the orders service: it sends payment requests and records answers."""
    async with recording(messaging_settings, (PaymentProcessed, PaymentFailed)) as pair:
        yield pair


async def _readiness(service: RunningService) -> tuple[int, dict[str, Any]]:
    response = await service.http.get("/health/ready")
    checks: dict[str, Any] = response.json()["checks"]
    return response.status_code, checks


async def test_a_restarted_database_makes_the_service_not_ready_then_it_recovers_alone(
    postgres: EmbeddedPostgres, bank: RunningService, orders: tuple[EventBus, EventRecorder]
) -> None:
    """While its Postgres is stopped payments answers 503 naming the database; once
    Postgres is started again the same process is ready within 15 s and charges the next
    request."""
    bus, answers = orders
    await bus.publish(payment_request())
    await answers.wait_for(1)

    await asyncio.to_thread(postgres.stop)
    status, checks = await _readiness(bank)
    assert status == 503
    assert not checks["database"]["ok"]
    assert checks["kafka"]["ok"]

    await asyncio.to_thread(postgres.start)
    async with asyncio.timeout(RECOVERY_BOUND_S):
        while (await _readiness(bank))[0] != 200:
            await asyncio.sleep(0.1)
    await bus.publish(payment_request())
    events = await answers.wait_for(2)
    assert [type(e) for e in events] == [PaymentProcessed, PaymentProcessed]


async def test_a_request_that_arrives_while_the_database_is_down_is_handled_once_it_is_back(
    postgres: EmbeddedPostgres, bank: RunningService, orders: tuple[EventBus, EventRecorder]
) -> None:
    """A payment request that arrives while Postgres is stopped (for 3 s) is not
    dead-lettered: payments waits for its database and charges it once it is back."""
    bus, answers = orders
    await bus.publish(payment_request())
    await answers.wait_for(1)

    await asyncio.to_thread(postgres.stop)
    await bus.publish(payment_request())
    await asyncio.sleep(3)
    await asyncio.to_thread(postgres.start)

    events = await answers.wait_for(2, timeout=RECOVERY_BOUND_S)
    assert [type(e) for e in events] == [PaymentProcessed, PaymentProcessed]
    assert dead_lettered(bank) == 0
