"""``evp relay --service NAME``: run a service's transactional-outbox relay on its own.

The relay normally runs inside the service process; run it standalone to publish from a
service that is down, or to scale publishing separately. It uses the same checkpoint as an
in-process relay (relays take turns on its lock), so running both never publishes twice
beyond the at-least-once redelivery consumers already deduplicate.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from contextlib import ExitStack
from typing import Any

__all__ = ["register", "relay_service"]


def register(subparsers: Any) -> None:
    """Add ``evp relay`` to the parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "relay",
        help="publish a service's stored events to Kafka (its transactional outbox)",
        description="Publish the events a service stored, in order, and record progress "
        "after each confirmed batch. Runs until interrupted, or with --once until nothing "
        "is pending.",
    )
    parser.add_argument("--service", required=True, help="the service whose outbox to relay")
    parser.add_argument(
        "--database-url",
        help="the service's database (default: <SERVICE>_DATABASE_URL, else the embedded "
        "Postgres in .evp/<service>/)",
    )
    parser.add_argument("--batch-size", type=int, default=1000, help="events per batch")
    parser.add_argument("--once", action="store_true", help="publish what is pending, then exit")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the relay; the exit code of ``evp relay``."""
    from evp.eventstore.database import ServiceDatabase
    from evp.messaging import MessagingSettings

    if args.batch_size < 1:
        raise SystemExit("evp relay: --batch-size must be at least 1")
    settings = MessagingSettings.from_env()
    with ExitStack() as stack:
        url = args.database_url or ServiceDatabase.from_env(args.service).open(stack)
        published = asyncio.run(
            relay_service(args.service, url, settings, once=args.once, batch_size=args.batch_size)
        )
    print(f"evp relay: published {published} event(s) for {args.service}")
    return 0


async def relay_service(
    service: str,
    database_url: str,
    settings: Any,
    *,
    once: bool = False,
    batch_size: int = 1000,
    stop: asyncio.Event | None = None,
) -> int:
    """Relay ``service``'s outbox: drain it (``once``) or run until ``stop`` or a signal.

    Returns how many events were published when ``once``; 0 otherwise.
    """
    from evp.events import EVENT_TYPES
    from evp.eventstore.outbox import OutboxRelay
    from evp.eventstore.postgres import PostgresRecorder
    from evp.messaging import EventBus

    recorder = await PostgresRecorder.connect(database_url)
    try:
        async with EventBus(settings, service=f"{service}-relay") as bus:
            relay = OutboxRelay(
                recorder,
                bus.publisher,
                topic_of=lambda event_type: bus.topics.of(EVENT_TYPES[event_type]),
                batch_size=batch_size,
            )
            if once:
                return await relay.drain()
            if stop is None:
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for number in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(number, stop.set)
            await relay.run(stop)
            return 0
    finally:
        await recorder.close()
