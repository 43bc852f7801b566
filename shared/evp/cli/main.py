"""Entry point of ``evp``: builds the parser from each command module and dispatches.

A command module exposes ``register(subparsers)`` and sets ``func`` on its parser; the
function returns the exit code. Deliberate errors (:class:`~evp.errors.EvpError`) are
printed as one line, never as a stack trace.

The runtime's own commands are listed here; other installed packages add theirs through
the ``evp.commands`` entry point group (the schema tooling adds ``schemas`` and
``codegen``), so the runtime never imports the tooling.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterator, Sequence
from importlib.metadata import entry_points
from types import ModuleType

from evp.errors import EvpError

# Imported lazily so that ``evp schemas lint`` does not pay for Kafka or Postgres imports.
_COMMAND_MODULES = (
    "evp.cli.registry",
    "evp.cli.replay",
    "evp.cli.relay",
    "evp.cli.outbox",
    "evp.cli.serve",
    "evp.cli.broker",
    "evp.cli.dlq",
    "evp.cli.up",
    "evp.cli.doctor",
    "evp.cli.demo",
    "evp.cli.chaos",
)
COMMANDS_GROUP = "evp.commands"


def build_parser() -> argparse.ArgumentParser:
    """The full ``evp`` parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="evp", description="Schema-registry-driven Avro event platform."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _command_modules():
        module.register(subparsers)
    return parser


def _command_modules() -> Iterator[ModuleType]:
    for name in _COMMAND_MODULES:
        yield importlib.import_module(name)
    # Sorted by name so that the help lists contributed commands in a stable order.
    for point in sorted(entry_points(group=COMMANDS_GROUP), key=lambda p: p.name):
        module = point.load()
        if not isinstance(module, ModuleType):
            raise TypeError(f"entry point {point.name} of {COMMANDS_GROUP} is not a module")
        yield module


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
