"""``evp registry serve``: the Confluent-compatible schema registry; ``evp registry openapi``."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add ``evp registry`` and its subcommands to the parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "registry", help="run the schema registry", description=__doc__
    )
    commands = parser.add_subparsers(dest="registry_command", metavar="COMMAND", required=True)

    serve = commands.add_parser(
        "serve",
        help="serve the registry over HTTP",
        description="Serve the registry. Flags override EVP_REGISTRY_* environment variables.",
    )
    serve.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8081)")
    storage = serve.add_mutually_exclusive_group()
    storage.add_argument("--database-url", help="Postgres URL; default: an embedded Postgres")
    storage.add_argument(
        "--data-dir", type=Path, help="directory of the embedded Postgres (default .evp/registry)"
    )
    serve.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="NAME:PASSWORD",
        help="a read-write user; enables HTTP basic auth (repeatable)",
    )
    serve.add_argument(
        "--read-only-user",
        action="append",
        default=[],
        metavar="NAME:PASSWORD",
        help="a read-only user; enables HTTP basic auth (repeatable)",
    )
    serve.add_argument(
        "--compatibility",
        metavar="LEVEL",
        help="compatibility level where no config sets one (default BACKWARD)",
    )
    serve.set_defaults(func=_serve)

    openapi = commands.add_parser("openapi", help="print the registry's OpenAPI document")
    openapi.set_defaults(func=_openapi)


def _serve(args: argparse.Namespace) -> int:
    from evp.registry.server import serve
    from evp.registry.settings import RegistrySettings, compatibility_from, users_from

    settings = RegistrySettings.from_env()
    overrides: dict[str, Any] = {
        key: value
        for key, value in {
            "host": args.host,
            "port": args.port,
            "database_url": args.database_url,
            "data_dir": args.data_dir,
        }.items()
        if value is not None
    }
    if args.data_dir is not None:
        overrides["database_url"] = None
    if args.compatibility is not None:
        overrides["compatibility"] = compatibility_from("--compatibility", args.compatibility)
    if args.user or args.read_only_user:
        overrides["users"] = users_from(args.user, args.read_only_user)
    serve(dataclasses.replace(settings, **overrides))
    return 0


def _openapi(args: argparse.Namespace) -> int:
    from evp.registry.app import API_VERSION, TITLE
    from evp.registry.openapi import openapi_document
    from evp.registry.routes import ROUTES

    print(json.dumps(openapi_document(list(ROUTES), title=TITLE, version=API_VERSION), indent=2))
    return 0
