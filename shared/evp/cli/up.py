"""``evp up``: boot the whole platform as supervised processes, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import signal
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add ``evp up`` to the parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "up",
        help="run the whole platform (Postgres, Kafka, registry, SMTP sink, six services)",
        description="Start, in dependency order and each once the one before is healthy: "
        "an embedded Postgres (one database per service and one for the registry, in "
        "$EVP_DATA_DIR, default .evp), `evp broker`, `evp registry serve`, the schemas "
        "registered, an SMTP sink, and the six services (`evp serve`); then seed an admin "
        "and a product catalogue. What the environment configures (KAFKA_BOOTSTRAP_SERVERS, "
        "<SERVICE>_DATABASE_URL, SCHEMA_REGISTRY_URL, NOTIFICATIONS_SMTP_HOST) is used "
        "instead of started. Crashed children are restarted with backoff; Ctrl-C or SIGTERM "
        "stops everything in reverse order (a second Ctrl-C kills what is left).",
    )
    parser.add_argument(
        "--replicas",
        action="append",
        default=[],
        metavar="SERVICE=N",
        help="run N instances of SERVICE in its consumer group (repeatable)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        metavar="FILE",
        help="write a machine-readable description here, kept current while running "
        "(always also written to $EVP_DATA_DIR/up.json, which `evp doctor` reads)",
    )
    parser.add_argument(
        "--topic-prefix", help="put before every topic name (default: EVP_TOPIC_PREFIX, or none)"
    )
    parser.add_argument(
        "--schemas",
        type=Path,
        default=Path("schemas"),
        help="the schemas folder (default: %(default)s)",
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds each child gets to stop after SIGTERM before SIGKILL (default 30)",
    )
    parser.add_argument(
        "--ready-timeout",
        type=float,
        default=120.0,
        metavar="S",
        help="seconds each child gets to become healthy (default 120)",
    )
    parser.add_argument("--no-seed", action="store_true", help="do not seed the catalogue")
    console = parser.add_mutually_exclusive_group()
    console.add_argument(
        "--console-port",
        type=int,
        metavar="PORT",
        help="the console's port on 127.0.0.1 (default: EVP_CONSOLE_PORT, or 8700; "
        "0: any free port; a taken port: any free one)",
    )
    console.add_argument("--no-console", action="store_true", help="do not serve the console")
    parser.add_argument(
        "--verbose", action="store_true", help="also print every child's output, prefixed"
    )
    parser.add_argument(
        "--exit-when-ready",
        action="store_true",
        help="stop everything and exit 0 as soon as the platform is up (for scripts and CI)",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from evp.up import Plan, UpError, parse_replicas

    try:
        plan = Plan.from_env(
            replicas=parse_replicas(args.replicas),
            schemas=args.schemas,
            topic_prefix=args.topic_prefix,
        )
        if args.no_console:
            plan = dataclasses.replace(plan, console_port=None)
        elif args.console_port is not None:
            plan = dataclasses.replace(plan, console_port=args.console_port)
        return asyncio.run(_up(plan, args))
    except UpError as error:
        print(f"evp up: {error}", file=sys.stderr, flush=True)
        return 1


async def _up(plan: Any, args: argparse.Namespace) -> int:
    from evp.up import platform
    from evp.up.table import format_table

    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    stop = asyncio.Event()
    hurry = asyncio.Event()
    booted = False

    def on_signal() -> None:
        if stop.is_set():
            say("evp up: second signal: killing what is left")
            hurry.set()
        elif not booted:
            stop.set()
            main.cancel()  # leaves the boot; what started is stopped in reverse
        else:
            stop.set()

    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, on_signal)
    files = [plan.data_dir / "up.json", *([args.json] if args.json else [])]
    try:
        async with platform(
            plan,
            state_files=files,
            report=say,
            echo=say if args.verbose else None,
            grace=args.grace,
            ready_timeout=args.ready_timeout,
            seed=not args.no_seed,
            hurry=hurry,
        ) as running:
            booted = True
            say(format_table(running))
            if args.exit_when_ready:
                say("evp up: ready; stopping (--exit-when-ready)")
            else:
                say("evp up: running; Ctrl-C stops everything")
                await stop.wait()
    except asyncio.CancelledError:
        if not stop.is_set():
            raise
        main.uncancel()
        say("evp up: interrupted during start-up; stopped")
        return 0
    say("evp up: stopped")
    return 0


def say(line: str) -> None:
    """Print a line of ``evp up``'s own output at once."""
    print(line, flush=True)
