"""``evp replay``: rebuild a service's read model from its own event store.

Replays read the service's Postgres database, never Kafka: the broker keeps only recent
data, the store keeps everything. The writer schemas come from the store too, so no
registry needs to be running.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
from contextlib import AsyncExitStack
from typing import Any


def register(subparsers: Any) -> None:
    """Add ``evp replay`` to the parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "replay", help="rebuild a read model from a service's event store", description=__doc__
    )
    parser.add_argument("--service", required=True, help="the service owning the read model")
    parser.add_argument("--projection", required=True, help="the projection to rebuild")
    parser.add_argument(
        "--module",
        help="module exposing PROJECTIONS (default: shop.<service>.projections)",
    )
    parser.add_argument(
        "--database-url",
        help="the service's Postgres URL (default: $<SERVICE>_DATABASE_URL, else embedded)",
    )
    parser.add_argument(
        "--batch-size", type=_positive, default=1000, help="events read per query (default 1000)"
    )
    parser.set_defaults(func=_replay)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def _replay(args: argparse.Namespace) -> int:
    from evp.eventstore import ServiceDatabase, find_projection

    database = ServiceDatabase.from_env(args.service)
    if args.database_url:
        database = dataclasses.replace(database, url=args.database_url)
    # Resolved before any database starts, so a typo fails at once.
    projection = find_projection(args.service, args.projection, module=args.module)
    handled, position = asyncio.run(_rebuild_service(database, projection, args.batch_size))
    print(
        f"rebuilt {args.service}/{projection.name} from {handled} events"
        f" (checkpoint at position {position})"
    )
    return 0


async def _rebuild_service(database: Any, projection: Any, batch_size: int) -> tuple[int, int]:
    async with AsyncExitStack() as stack:
        url = await database.open(stack)
        return await _rebuild(url, projection, batch_size)


async def _rebuild(url: str, projection: Any, batch_size: int) -> tuple[int, int]:
    from evp.eventstore import EventStore, PostgresRecorder, ProjectionRunner, codec_from_store

    recorder = await PostgresRecorder.connect(url)
    try:
        store = EventStore(recorder, await codec_from_store(recorder))
        runner = ProjectionRunner(store, projection, batch_size=batch_size)
        handled = await runner.rebuild()
        return handled, await recorder.checkpoint(projection.name)
    finally:
        await recorder.close()
