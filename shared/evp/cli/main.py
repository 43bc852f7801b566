"""Entry point of ``evp``: builds the parser from each command module and dispatches.

A command module exposes ``register(subparsers)`` and sets ``func`` on its parser; the
function returns the exit code. Deliberate errors (:class:`~evp.errors.EvpError`) are
printed as one line, never as a stack trace.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from evp.errors import EvpError

# Imported lazily so that ``evp schemas lint`` does not pay for Kafka or Postgres imports.
_COMMAND_MODULES = (
    "evp.cli.schemas",
    "evp.cli.codegen",
    "evp.cli.registry",
    "evp.cli.replay",
    "evp.cli.relay",
    "evp.cli.broker",
    "evp.cli.dlq",
)


def build_parser() -> argparse.ArgumentParser:
    """The full ``evp`` parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="evp", description="Schema-registry-driven Avro event platform."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``evp`` with ``argv`` and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except EvpError as error:
        print(f"evp: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
