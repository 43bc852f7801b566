"""``evp demo``: the shop run as a real client would, every invariant checked (``make demo``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add ``evp demo`` to the parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="boot the platform, shop over HTTP with a service killed midway, check invariants",
        description="Boot the platform as `evp up` does (in a fresh temporary data directory), "
        "then act as the shop's customers over HTTP: register, log in, browse, and place "
        "orders of every kind (paid, declined, out of stock, payment timeout, cancelled), "
        "some concurrently for the last items in stock, while one service is SIGKILLed and "
        "restarted. Prints a report (orders by outcome, latency, events, dead letters) and "
        "every invariant checked; exits 0 only if all of them hold.",
    )
    parser.add_argument("--orders", type=int, default=40, metavar="N", help="orders (default 40)")
    parser.add_argument("--seed", type=int, default=1, metavar="S", help="the mix's seed")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the report here")
    parser.add_argument(
        "--kill",
        default="inventory",
        choices=("users", "orders", "inventory", "payments", "notifications", "analytics"),
        help="the service SIGKILLed midway (default inventory)",
    )
    parser.add_argument(
        "--timeout", type=float, default=120.0, metavar="S", help="wait for orders to end"
    )
    parser.add_argument(
        "--tour", action="store_true", help="the narrated tour of the platform's features instead"
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.tour:
        from evp.demo import tour

        return tour()
    from evp.demo.run import DemoOptions, run_demo

    options = DemoOptions(
        orders=args.orders, seed=args.seed, json=args.json, chaos=args.kill, timeout=args.timeout
    )
    return run_demo(options)
