"""``evp chaos``: the shop under SIGKILLs and a pause, every invariant checked (``make chaos``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add ``evp chaos`` to the parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "chaos",
        help="shop at a steady rate while processes are killed; check every invariant",
        description="Boot the platform as `evp up` does (in a fresh temporary data directory), "
        "place orders of every kind over HTTP at a steady rate (open loop) while the registry "
        "and every service instance are SIGKILLed at seeded random moments (and, with "
        "--pause, one instance is SIGSTOPped then SIGCONTinued), and the supervisor restarts "
        "them. Each outbox relay runs inside its service's process, so killing a service "
        "kills its relay. Then wait for quiescence and check, from the services' own "
        "databases and the topics: every order terminal exactly once within the bound, stock "
        "conserved and never negative, no order charged twice, one email per terminal order "
        "and one welcome per user, every read model equal to its rebuild by replay, every "
        "outbox drained, no dead letters but the injected. Exits 1 on any violation.",
    )
    parser.add_argument(
        "--orders", type=_positive, default=500, metavar="N", help="orders (default 500)"
    )
    parser.add_argument(
        "--rate", type=float, default=4.0, metavar="R", help="orders started per second (4)"
    )
    parser.add_argument("--seed", type=int, default=1, metavar="S", help="the run's seed (1)")
    parser.add_argument(
        "--faults",
        type=int,
        metavar="K",
        help="SIGKILLs to inject (default: one per process, every process once)",
    )
    parser.add_argument(
        "--pause", action="store_true", help="also SIGSTOP one service instance, then SIGCONT"
    )
    parser.add_argument(
        "--pause-seconds",
        type=float,
        default=40.0,
        metavar="S",
        help="how long the pause lasts (40: past the broker's 30 s session timeout)",
    )
    parser.add_argument(
        "--replicas",
        action="append",
        default=[],
        metavar="SERVICE=N",
        help="run N instances of SERVICE in its consumer group (repeatable)",
    )
    parser.add_argument(
        "--poison",
        type=int,
        default=0,
        metavar="N",
        help="also publish N messages that are no Avro frame (they must be dead-lettered)",
    )
    parser.add_argument(
        "--bound",
        type=float,
        default=120.0,
        metavar="S",
        help="each order ends within S seconds of its placement, and the platform is quiet "
        "within S seconds after the last fault and order (120)",
    )
    parser.add_argument(
        "--concurrency", type=_positive, default=16, metavar="C", help="orders in flight (16)"
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the report here")
    parser.add_argument(
        "--keep", action="store_true", help="keep the data directory (kept anyway on a failure)"
    )
    parser.set_defaults(func=_run)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def _run(args: argparse.Namespace) -> int:
    from evp.chaos import ChaosOptions, run_chaos
    from evp.up import parse_replicas

    options = ChaosOptions(
        orders=args.orders,
        rate=args.rate,
        seed=args.seed,
        faults=args.faults,
        pause=args.pause,
        pause_s=args.pause_seconds,
        replicas=parse_replicas(args.replicas),
        poison=args.poison,
        bound_s=args.bound,
        concurrency=args.concurrency,
        json=args.json,
        keep=args.keep,
    )
    return run_chaos(options)
