"""``evp dlq list|show|replay``: inspect dead-letter topics and replay letters once fixed.

``--topic`` names the topic the letters came from (``orders``) or its dead-letter topic
(``orders.dlq``), as it is called on the cluster (any prefix included). Kafka is
``--bootstrap-servers`` or ``KAFKA_BOOTSTRAP_SERVERS``; the registry, needed to decode and to
replay, ``--registry`` or ``SCHEMA_REGISTRY_URL``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING, Any

from evp.settings import SettingsError

if TYPE_CHECKING:
    from evp.messaging import DeadLetter, MessagingSettings
    from evp.messaging.dead_letter_queue import DeadLetterQueue

__all__ = ["register"]

_MESSAGE_WIDTH = 60


def register(subparsers: Any) -> None:
    """Add ``evp dlq`` and its subcommands to the parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "dlq", help="inspect and replay dead letters", description=__doc__
    )
    commands = parser.add_subparsers(dest="dlq_command", metavar="COMMAND", required=True)

    listing = commands.add_parser("list", help="one line per dead letter of a topic")
    _common(listing)
    listing.set_defaults(func=_list)

    show = commands.add_parser(
        "show", help="a dead letter in full: reason, headers, decoded body (hex if it is not)"
    )
    _common(show)
    show.add_argument("--offset", type=int, required=True, help="its offset in the DLQ topic")
    show.add_argument("--partition", type=int, default=0, help=argparse.SUPPRESS)
    show.set_defaults(func=_show)

    replay = commands.add_parser(
        "replay",
        help="re-publish dead letters to their original topic (each at most once)",
        description=(
            "Re-publish dead letters, unchanged, to the topic they came from, once their cause "
            "is fixed. Replayed letters are marked, so a second replay skips them. Letters "
            "that are not wire-format frames of a registered schema are skipped (exit 1)."
        ),
    )
    _common(replay)
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--offset", type=int, action="append", help="a letter's offset (repeatable)")
    which.add_argument("--all", action="store_true", help="every letter not yet replayed")
    replay.add_argument("--partition", type=int, default=0, help=argparse.SUPPRESS)
    replay.set_defaults(func=_replay)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--topic", required=True, help="the original topic, or its .dlq topic")
    parser.add_argument("--bootstrap-servers", help="Kafka (default: KAFKA_BOOTSTRAP_SERVERS)")
    parser.add_argument("--registry", metavar="URL", help="registry (default: SCHEMA_REGISTRY_URL)")


def _settings(args: argparse.Namespace) -> tuple[MessagingSettings, str]:
    from evp.messaging import MessagingSettings

    settings = MessagingSettings.from_env()
    if args.registry:
        settings = settings.replace(schema_registry_url=args.registry)
    bootstrap = args.bootstrap_servers or settings.bootstrap_servers
    if not bootstrap:
        # An embedded broker lives in one process; another process's is reached by address.
        raise SettingsError(
            "KAFKA_BOOTSTRAP_SERVERS", "", "the cluster's address (`evp broker` prints one)"
        )
    return settings.replace(bootstrap_servers=bootstrap), bootstrap


def _queue(args: argparse.Namespace) -> DeadLetterQueue:
    from evp.messaging.dead_letter_queue import DeadLetterQueue

    settings, bootstrap = _settings(args)
    return DeadLetterQueue.from_settings(settings, bootstrap_servers=bootstrap)


def _list(args: argparse.Namespace) -> int:
    letters = _queue(args).letters(args.topic)
    if not letters:
        print(f"no dead letters for {args.topic}")
        return 0
    for letter in letters:
        message = " ".join(letter.error_message.split())
        if len(message) > _MESSAGE_WIDTH:
            message = message[: _MESSAGE_WIDTH - 3] + "..."
        print(
            f"{letter.offset:>6}  {letter.reason:<19}  {_origin(letter):<28}  "
            f"{'replayed' if letter.replayed else 'pending ':<8}  {letter.error_type}: {message}"
        )
    return 0


def _show(args: argparse.Namespace) -> int:
    from evp.avro import AvroError
    from evp.messaging import RegistrySchemaLookup
    from evp.messaging.dead_letter_queue import decoded_body

    settings, _ = _settings(args)
    letter = _queue(args).letter(args.topic, args.offset, partition=args.partition)
    print(f"dead letter {letter.topic}[{letter.partition}]@{letter.offset}")
    print(f"  reason:    {letter.reason}")
    print(f"  error:     {letter.error_type}: {letter.error_message}")
    for problem in letter.problems:
        print(f"  problem:   {problem.type} at {problem.path}: {problem.description()}")
        if problem.info:
            print(f"             {problem.info}")
        print(f"             reader: {problem.reader}")
        print(f"             writer: {problem.writer}")
    when = letter.original_timestamp.isoformat() if letter.original_timestamp else "unknown"
    print(f"  original:  {_origin(letter)} at {when}")
    print(f"  group:     {letter.group} ({letter.attempts} attempt(s))")
    print(f"  replayed:  {'yes' if letter.replayed else 'no'}")
    print(f"  key:       {_text_or_hex(letter.key)}")
    print("  headers:")
    for name, value in letter.headers:
        print(f"    {name}: {_text_or_hex(value)}")
    with RegistrySchemaLookup(
        settings.schema_registry_url, credentials=settings.schema_registry_credentials
    ) as lookup:
        try:
            schema_id, body = decoded_body(letter, lookup)
        except AvroError as error:
            print(f"  body:      not decodable ({error}); {len(letter.value)} byte(s) of hex:")
            print(_hex_dump(letter.value))
            return 0
    print(f"  body:      schema id {schema_id}")
    print(json.dumps(body, indent=2, default=str, ensure_ascii=False))
    return 0


def _replay(args: argparse.Namespace) -> int:
    return asyncio.run(_replay_async(args))


async def _replay_async(args: argparse.Namespace) -> int:
    from evp.messaging import EventBus

    settings, _ = _settings(args)
    queue = _queue(args)
    async with EventBus(settings, service="evp-dlq") as bus:
        report = await queue.replay(
            args.topic,
            publisher=bus.publisher,
            producer=bus.producer,
            offsets=None if args.all else args.offset,
            partition=args.partition,
        )
    for letter, delivery in report.replayed:
        print(
            f"replayed {letter.offset} -> {delivery.topic}[{delivery.partition}]@{delivery.offset}"
        )
    refused = 0
    for letter, why in report.skipped:
        print(f"skipped  {letter.offset}: {why}", file=sys.stderr)
        refused += why != "already replayed"
    print(f"{len(report.replayed)} replayed, {len(report.skipped)} skipped")
    return 1 if refused else 0


def _origin(letter: DeadLetter) -> str:
    return f"{letter.original_topic}[{letter.original_partition}]@{letter.original_offset}"


def _text_or_hex(value: bytes | None) -> str:
    if value is None:
        return "(none)"
    try:
        text = value.decode()
    except UnicodeDecodeError:
        return "0x" + value.hex()
    return text if text.isprintable() else "0x" + value.hex()


def _hex_dump(data: bytes, width: int = 16) -> str:
    return "\n".join(
        f"    {offset:08x}  {data[offset : offset + width].hex(' ')}"
        for offset in range(0, len(data), width)
    )
