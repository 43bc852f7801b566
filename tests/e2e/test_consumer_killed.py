"""A consumer process SIGKILLed after its work but before its commit: nothing is done twice.

The worker (``tests/e2e/payments_worker.py``) writes its effect and the processed mark in
one Postgres transaction and then hangs before the offset can be committed; the test kills
it with SIGKILL (no shutdown, no commit), starts a second worker in the same group, and
checks that the event came again and that the idempotent mark kept the payment single.
"""

from __future__ import annotations

import asyncio
import decimal
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from evp.events import Currency, OrderLine, OrderPlaced, PaymentProcessed
from evp.eventstore.postgres import PostgresRecorder
from evp.messaging import EventBus, MessagingSettings

_ROOT = Path(__file__).resolve().parents[2]
_TIMEOUT_S = 60.0


class _Worker:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process

    async def next_line(self) -> str:
        """The worker's next line of output; fails the test when it exits or stalls."""
        assert self.process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(self.process.stdout.readline), _TIMEOUT_S)
        assert line, f"worker exited with {self.process.wait(5)}"
        return line.strip()


@contextmanager
def _worker(settings: MessagingSettings, database_url: str, *, hang: bool) -> Iterator[_Worker]:
    command = [
        sys.executable,
        "-m",
        "tests.e2e.payments_worker",
        str(settings.bootstrap_servers),
        str(settings.schema_registry_url),
        settings.topic_prefix,
        database_url,
        *(["--hang"] if hang else []),
    ]
    process = subprocess.Popen(
        command, cwd=_ROOT, stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    try:
        yield _Worker(process)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        assert process.stdout is not None
        process.stdout.close()


def _order() -> OrderPlaced:
    return OrderPlaced.new(
        order_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        lines=[OrderLine(sku="BOOK-1", quantity=1, unit_price=decimal.Decimal("10.00"))],
        total=decimal.Decimal("10.00"),
        currency=Currency.EUR,
        source="orders",
    )


async def _recorded(database_url: str) -> list[tuple[str, str, uuid.UUID | None]]:
    """(stream, event type, causation id) of every event the payments store holds."""
    recorder = await PostgresRecorder.connect(database_url)
    try:
        return [(e.stream_id, e.event_type, e.causation_id) for e in await recorder.read_all()]
    finally:
        await recorder.close()


async def test_a_killed_consumer_redelivers_and_the_duplicate_is_ignored(
    messaging_settings: MessagingSettings, service_database: Callable[[], str]
) -> None:
    """SIGKILL between the handler's committed work and the offset commit: the event is
    delivered again to the group's next consumer, which recognises it and does nothing."""
    database_url = service_database()
    order = _order()
    with _worker(messaging_settings, database_url, hang=True) as first:
        assert await first.next_line() == "ready"
        async with EventBus(messaging_settings, service="orders") as bus:
            await bus.publish(order)
        assert await first.next_line() == f"handled {order.envelope.event_id}"
        first.process.send_signal(signal.SIGKILL)
        assert first.process.wait(10) == -signal.SIGKILL
    with _worker(messaging_settings, database_url, hang=False) as second:
        assert await second.next_line() == "ready"
        assert await second.next_line() == f"duplicate {order.envelope.event_id}"
    assert await _recorded(database_url) == [
        (f"payment-{order.order_id}", PaymentProcessed.FULL_NAME, order.envelope.event_id)
    ]
