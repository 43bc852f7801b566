"""The ``evp`` command line: one subcommand module per noun, wired together here."""

from evp.cli.main import main

__all__ = ["main"]
