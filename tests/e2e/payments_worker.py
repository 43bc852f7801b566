"""A payments consumer in a process of its own, for the test that SIGKILLs one.

``python -m tests.e2e.payments_worker BOOTSTRAP REGISTRY PREFIX DATABASE_URL [--hang]``
consumes OrderPlaced in group ``payments``; per event it marks the event processed and
appends PaymentProcessed in one Postgres transaction, then prints ``handled <event id>``
(``duplicate <event id>`` when the mark says it was done before). With ``--hang`` the
handler then never returns, so the offset is never committed: the process is meant to be
killed there.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from evp.events import OrderPlaced, PaymentProcessed
from evp.eventstore.postgres import PostgresRecorder
from evp.eventstore.store import EventStore
from evp.messaging import EventBus, GroupProtocol, MessageContext
from evp.testing.kafka import messaging_settings_for
from tests.e2e.payments import take_payment


async def _run(bootstrap: str, registry: str, prefix: str, database_url: str, hang: bool) -> None:
    # The classic protocol: the killed member's partitions move once its 6 s session runs
    # out (the embedded broker never assigned a member asking for 1 s). Under KIP-848 the
    # broker's own session timeout decides, and that took 4 s or 31 s from run to run.
    settings = messaging_settings_for(
        bootstrap, registry, prefix, embedded=True, group_protocol=GroupProtocol.CLASSIC
    )
    recorder = await PostgresRecorder.connect(database_url)
    bus = EventBus(settings, service="payments", publishes=(PaymentProcessed,))
    store = EventStore(recorder, bus.codec)

    @bus.subscriber(group="payments", events=(OrderPlaced,))
    async def pay(event: OrderPlaced, context: MessageContext) -> None:
        new = await take_payment(store, event)
        print(f"{'handled' if new else 'duplicate'} {event.envelope.event_id}", flush=True)
        if hang:
            await asyncio.Event().wait()

    try:
        async with bus:
            await bus.wait_assigned()
            print("ready", flush=True)
            await asyncio.Event().wait()
    finally:
        await recorder.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("bootstrap", "registry", "prefix", "database_url"):
        parser.add_argument(name)
    parser.add_argument("--hang", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    try:
        asyncio.run(_run(args.bootstrap, args.registry, args.prefix, args.database_url, args.hang))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
