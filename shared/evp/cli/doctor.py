"""``evp doctor``: check that Kafka, the registry and each database answer, schemas registered."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add ``evp doctor`` to the parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "doctor",
        help="check that Kafka, the registry and the databases answer and schemas are registered",
        description="Check the platform the environment describes (KAFKA_BOOTSTRAP_SERVERS, "
        "SCHEMA_REGISTRY_URL, <SERVICE>_DATABASE_URL), falling back to what a running `evp up` "
        "wrote to $EVP_DATA_DIR/up.json. One line per check, with what to do about each "
        "failure; exit status 1 if any check failed.",
    )
    parser.add_argument(
        "--json",
        type=Path,
        metavar="FILE",
        help="the description `evp up --json FILE` keeps (default: $EVP_DATA_DIR/up.json)",
    )
    parser.add_argument(
        "--schemas",
        type=Path,
        default=Path("schemas"),
        help="the schemas folder (default: %(default)s)",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from evp.settings import PlatformSettings
    from evp.up.doctor import Status, Targets, diagnose, read_state

    path = args.json or PlatformSettings.from_env().data_dir / "up.json"
    targets = Targets.from_env(os.environ, read_state(path), path)
    checks = asyncio.run(diagnose(targets, args.schemas))
    for check in checks:
        print(check.format(), flush=True)
    failed = [c for c in checks if c.status is Status.FAIL]
    print(f"{len(failed)} check(s) failed" if failed else "all checks passed")
    return 1 if failed else 0
