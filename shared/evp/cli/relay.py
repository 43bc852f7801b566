"""``evp relay --service NAME``: run a service's transactional-outbox relay on its own.

The relay normally runs inside the service process; run it standalone to publish from a
service that is down, or to scale publishing separately. It uses the same checkpoint as an
in-process relay (relays take turns on its lock), so running both never publishes twice
beyond the at-least-once redelivery consumers already deduplicate. A stream with an event
that can never be published is parked and the others keep flowing; ``evp outbox`` lists
and retries parked streams.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import Any

__all__ = ["add_database_argument", "register", "relay_service", "service_settings"]


def register(subparsers: Any) -> None:
    """Add ``evp relay`` to the parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "relay",
        help="publish a service's stored events to Kafka (its transactional outbox)",
        description="Publish the events a service stored, in order, and record progress "
        "after each confirmed batch. A stream with an event that can never be published "
        "(unknown type, refused by the broker) is parked and the others keep flowing: see "
        "'evp outbox'. Runs until interrupted, or with --once until nothing is pending.",
    )
    parser.add_argument("--service", required=True, help="the service whose outbox to relay")
    add_database_argument(parser)
    parser.add_argument("--batch-size", type=int, default=1000, help="events per batch")
    parser.add_argument("--once", action="store_true", help="publish what is pending, then exit")
    parser.set_defaults(func=run)


def add_database_argument(parser: argparse.ArgumentParser) -> None:
    """``--database-url``, as every outbox command takes it."""
    parser.add_argument(
        "--database-url",
        help="the service's database (default: <SERVICE>_DATABASE_URL, else the embedded "
        "Postgres in .evp/<service>/)",
    )


def service_settings(args: argparse.Namespace) -> Any:
    """The service's settings from the environment, ``--database-url`` applied."""
    import dataclasses

    from evp.service import ServiceSettings

    settings = ServiceSettings.from_env(args.service)
    if args.database_url:
        database = dataclasses.replace(settings.database, url=args.database_url)
        settings = settings.replace(database=database)
    return settings


def run(args: argparse.Namespace) -> int:
    """Run the relay; the exit code of ``evp relay``."""
    if args.batch_size < 1:
        raise SystemExit("evp relay: --batch-size must be at least 1")
    settings = service_settings(args)
    published = asyncio.run(relay_service(settings, once=args.once, batch_size=args.batch_size))
    print(f"evp relay: published {published} event(s) for {args.service}")
    return 0


async def relay_service(
    settings: Any,
    *,
    once: bool = False,
    batch_size: int = 1000,
    stop: asyncio.Event | None = None,
) -> int:
    """Relay a service's outbox: drain it (``once``) or run until ``stop`` or a signal.

    ``settings`` are the service's :class:`~evp.service.ServiceSettings`. Returns how many
    events were published when ``once``; 0 otherwise.
    """
    from evp.service.outbox import outbox_relay

    async with outbox_relay(settings, batch_size=batch_size) as relay:
        if once:
            return await relay.drain()
        if stop is None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for number in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(number, stop.set)
        await relay.run(stop)
        return 0
