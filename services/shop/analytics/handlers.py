"""Analytics' one handler: a copy of every event it consumes, kept in its own store.

The read models are folded from that store (:mod:`shop.analytics.projections`), not from
Kafka, so ``evp replay`` can rebuild them long after the broker dropped the events. The
copies are ``records`` of the service: its outbox relay never publishes them back.
"""

from __future__ import annotations

from evp.avro import Event
from evp.service import HandlerContext
from shop.analytics.domain import stream_of

__all__ = ["record"]


async def record(event: Event, context: HandlerContext) -> None:
    """Append ``event`` unchanged (same event id) to its aggregate's stream.

    One partition's events are handled one after the other, and a stream holds one
    partition's aggregate, so its version read here is still current at commit; were it
    not (a rebalance), the append's conflict fails the attempt and the kit retries it.
    """
    stream = stream_of(event)
    version = await context.store.stream_version(stream)
    await context.store.append(stream, [event], expected_version=version)
