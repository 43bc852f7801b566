"""``evp codegen``: write the typed event library from ``schemas/``, or check it is fresh.

The tooling contributes it to ``evp`` through the ``evp.commands`` entry point group.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add ``evp codegen`` to the parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "codegen",
        help="generate the typed event library from the schemas",
        description="Generate the typed event library from the latest version of each subject.",
    )
    parser.add_argument("--schemas", type=Path, default=Path("schemas"), help="schemas folder")
    parser.add_argument(
        "--out", type=Path, default=Path("shared/evp/events"), help="output package folder"
    )
    parser.add_argument("--package", default="evp.events", help="import name of the output")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 naming each stale file when the output is out of date",
    )
    parser.add_argument(
        "--from-registry",
        metavar="URL",
        help="read each subject's latest schema from this schema registry instead of files",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Generate (or check) the library; the exit code of ``evp codegen``."""
    from evp.contract.catalog import load_catalog
    from evp_codegen.generate.generator import generate
    from evp_codegen.generate.source import DirectorySource

    catalog = load_catalog(args.schemas)
    if args.from_registry:
        from evp_codegen.generate.registry_source import RegistrySource

        with RegistrySource(args.from_registry) as registry:
            library = generate(catalog, registry, package=args.package)
    else:
        library = generate(catalog, DirectorySource(), package=args.package)
    if args.check:
        stale = library.stale_files(args.out)
        for name in stale:
            print(f"{args.out / name}: stale; run `evp codegen`", file=sys.stderr)
        if stale:
            print(f"evp codegen --check: {len(stale)} stale file(s)", file=sys.stderr)
            return 1
        print(f"evp codegen --check: {args.out} is up to date ({len(library.files)} files)")
        return 0
    library.write(args.out)
    print(f"evp codegen: wrote {len(library.files)} files to {args.out}")
    return 0
