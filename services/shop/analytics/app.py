"""The analytics service: what it keeps, how it folds it, what it answers.

It publishes nothing. Every event of the shop is consumed and kept, unchanged, in its own
store (``records``: the relay never publishes these copies); projections fold that store
into the read models the routes answer from, and ``evp replay`` rebuilds them from it.
"""

from __future__ import annotations

import asyncio

from evp.service import Service, ServiceRuntime
from shop.analytics import handlers, routes
from shop.analytics.domain import CONSUMED
from shop.analytics.projections import MIGRATIONS, MIGRATIONS_COMPONENT, PROJECTIONS

__all__ = ["service"]

service = Service(
    "analytics",
    records=CONSUMED,
    description="Orders, revenue, conversion, saga durations and event rates of the shop.",
)
service.handles(*CONSUMED)(handlers.record)
for projection in PROJECTIONS:
    service.projection(projection)
service.migrate(MIGRATIONS_COMPONENT, MIGRATIONS)
service.include(routes.router)


@service.on_startup
async def resolve_writer_schemas(runtime: ServiceRuntime) -> None:
    """Look up the schema id of every kept type now, off the event loop: appending a copy
    would otherwise ask the registry from inside a handler, blocking the loop, and a type
    the registry lacks is better named at start than dead-lettered later."""
    codec = runtime.bus.codec
    await asyncio.to_thread(lambda: [codec.prepare(event_type) for event_type in CONSUMED])
