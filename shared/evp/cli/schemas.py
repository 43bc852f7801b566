"""``evp schemas ...``: commands on the Avro contract in ``schemas/``.

``schemas`` is a group so that ``check`` and ``register`` can join ``lint`` as siblings.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from evp_codegen.findings import Finding, Severity
from evp_codegen.lint import lint_schemas

__all__ = ["register"]

DEFAULT_SCHEMAS = Path("schemas")


def register(subparsers: Any) -> None:
    """Add ``evp schemas`` and its subcommands to the parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "schemas", help="lint, check and register the Avro contract"
    )
    commands = parser.add_subparsers(dest="schemas_command", metavar="SUBCOMMAND", required=True)
    lint = commands.add_parser(
        "lint",
        help="report every rule the schemas break",
        description="Report every rule the schemas break, as `file: json-path: RULE_ID: "
        "message`. Exits 1 on any error, 0 when there are only warnings.",
    )
    lint.add_argument(
        "--schemas",
        type=Path,
        default=DEFAULT_SCHEMAS,
        metavar="DIR",
        help="the schemas folder (default: %(default)s)",
    )
    lint.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text lines, or a JSON array of findings (default: %(default)s)",
    )
    lint.set_defaults(func=run_lint)


def run_lint(args: argparse.Namespace) -> int:
    """Lint ``args.schemas``, print the findings, and return 1 if any is an error."""
    findings = lint_schemas(args.schemas)
    here = Path.cwd().resolve()
    if args.format == "json":
        print(json.dumps([_as_json(f, here) for f in findings], indent=2, ensure_ascii=False))
    else:
        for finding in findings:
            print(finding.format(here))
    print(_summary(findings, args.schemas), file=sys.stderr)
    return 1 if any(f.severity is Severity.ERROR for f in findings) else 0


def _as_json(finding: Finding, here: Path) -> dict[str, str]:
    return {
        "file": finding.display_path(here),
        "path": finding.json_path,
        "rule": finding.rule,
        "severity": finding.severity.value,
        "message": finding.message,
    }


def _summary(findings: list[Finding], root: Path) -> str:
    if not findings:
        return f"{root}: no problems found"
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = len(findings) - errors
    files = len({f.path for f in findings})
    return (
        f"{root}: {_count(errors, 'error')}, {_count(warnings, 'warning')} "
        f"in {_count(files, 'file')}"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
