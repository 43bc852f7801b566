"""``evp outbox``: list the streams a service's outbox relay parked, and retry them.

The relay parks a stream when one of its events can never be published (its type has no
generated class, or the broker refuses the frame for good); the stream's later events wait
in the store and every other stream keeps flowing. Once the cause is fixed (the event
class deployed, the broker's limit raised), ``retry`` republishes the stream from the
parked event, in order, and lets the relay take it up again.
"""

from __future__ import annotations

import argparse
import asyncio
from contextlib import AsyncExitStack
from typing import Any

from evp.cli.relay import add_database_argument, service_settings

__all__ = ["register"]

_EXIT_CODES = """\
exit codes:
  0  done (list: whether or not streams are parked; retry: every stream relayed again)
  1  retry: a stream is still parked (its event was refused again)
  2  usage error, or a stream that is not parked, or a database or broker failure
"""


def register(subparsers: Any) -> None:
    """Add ``evp outbox list`` and ``evp outbox retry`` to the parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "outbox",
        help="list and retry the streams a service's outbox relay parked",
        description=__doc__,
        epilog=_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="outbox_command", metavar="COMMAND", required=True)

    listing = commands.add_parser(
        "list",
        help="print the parked streams: stream, position, event type, since, reason",
        epilog=_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(listing)
    listing.set_defaults(func=_list)

    retry = commands.add_parser(
        "retry",
        help="republish parked streams from the parked event, then relay them again",
        description="Republish a parked stream's events from the one that was refused up "
        "to the relay's checkpoint, in order, then unpark it. Publishes with the same "
        "settings from the environment as 'evp relay'.",
        epilog=_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(retry)
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("stream_id", nargs="?", metavar="STREAM_ID", help="the stream to retry")
    which.add_argument("--all", action="store_true", help="retry every parked stream")
    retry.set_defaults(func=_retry)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--service", required=True, help="the service whose outbox it is")
    add_database_argument(parser)
    parser.add_argument("--relay", help="the relay's name (default: the service's relay, outbox)")


def _list(args: argparse.Namespace) -> int:
    parked = asyncio.run(_parked(args))
    if not parked:
        print(f"no parked streams in {args.service}'s outbox")
        return 0
    for stream in parked:
        since = stream.parked_at.isoformat(timespec="seconds")
        print(
            f"{stream.stream_id}\tposition {stream.position}\t{stream.event_type}"
            f"\tsince {since}\t{stream.reason}"
        )
    return 0


async def _parked(args: argparse.Namespace) -> list[Any]:
    from evp.eventstore.outbox import DEFAULT_RELAY_NAME
    from evp.eventstore.postgres import PostgresRecorder

    async with AsyncExitStack() as stack:
        url = await service_settings(args).database.open(stack)
        recorder = await PostgresRecorder.connect(url)
        try:
            return await recorder.parked_streams(args.relay or DEFAULT_RELAY_NAME)
        finally:
            await recorder.close()


def _retry(args: argparse.Namespace) -> int:
    settings = service_settings(args)
    still = asyncio.run(retry_parked(settings, args.stream_id, relay=args.relay))
    for stream in still:
        print(f"still parked: {stream.stream_id} at position {stream.position}: {stream.reason}")
    if still:
        return 1
    print(f"evp outbox: {args.service}'s parked streams are relayed again")
    return 0


async def retry_parked(
    settings: Any, stream_id: str | None, *, relay: str | None = None
) -> list[Any]:
    """Retry ``stream_id`` (``None``: every parked stream) of the service with ``settings``;
    the streams still parked."""
    from evp.eventstore.outbox import DEFAULT_RELAY_NAME
    from evp.service.outbox import outbox_relay

    async with outbox_relay(settings, name=relay or DEFAULT_RELAY_NAME) as outbox:
        if stream_id is None:
            return await outbox.retry_all()
        parked = await outbox.retry(stream_id)
        return [] if parked is None else [parked]
