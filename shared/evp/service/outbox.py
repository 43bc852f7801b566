"""A service's outbox relay: the one place it is built, in a service or on its own.

Inside a service the runtime builds it on the service's bus (:mod:`evp.service.runtime`);
``evp relay`` and ``evp outbox`` build it here, on a bus of their own that consumes
nothing. Either way it is routed by the bus (``EVP_TOPIC_PREFIX`` included) and keeps its
checkpoint under the same name in the service's database, so relays in and out of the
service take turns rather than publish twice.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Collection
from typing import Any

from evp.eventstore.outbox import DEFAULT_RELAY_NAME, OutboxRelay, Outlet
from evp.eventstore.postgres import PostgresRecorder
from evp.messaging.bus import EventBus
from evp.service.settings import ServiceSettings

__all__ = ["outbox_relay", "relay_of"]


def relay_of(
    recorder: PostgresRecorder,
    outlet: Outlet,
    *,
    name: str = DEFAULT_RELAY_NAME,
    batch_size: int = 1000,
    local: Collection[str] = (),
) -> OutboxRelay:
    """The relay of the service whose store is ``recorder``, publishing through ``outlet``;
    events of the ``local`` types stay unpublished (see :class:`Service` ``records``)."""
    return OutboxRelay(recorder, outlet, name=name, batch_size=batch_size, local=local)


@contextlib.asynccontextmanager
async def outbox_relay(
    settings: ServiceSettings, *, name: str = DEFAULT_RELAY_NAME, batch_size: int = 1000
) -> AsyncIterator[OutboxRelay]:
    """The service's relay on its own: its database, and a bus that only publishes."""
    async with contextlib.AsyncExitStack() as stack:
        url = await settings.database.open(stack)
        recorder = await PostgresRecorder.connect(url)
        stack.push_async_callback(recorder.close)
        bus: Any = EventBus(settings.messaging, service=f"{settings.service}-relay")
        await bus.start()
        stack.push_async_callback(bus.stop)
        yield relay_of(recorder, bus, name=name, batch_size=batch_size)
