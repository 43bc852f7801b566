"""``evp schemas ...``: commands on the Avro contract in ``schemas/``.

``schemas`` is a group so that ``check`` and ``register`` can join ``lint`` as siblings.
The tooling contributes it to ``evp`` through the ``evp.commands`` entry point group.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from evp.contract.findings import Finding, Severity
from evp.credentials import redact_url
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

    check = commands.add_parser(
        "check",
        help="fail when a schema change would break a subject's consumers",
        description="Check every version that the baseline does not have against the earlier "
        "ones at its subject's level, and that published versions are unchanged. Without a "
        "baseline, the whole history is checked. Exits 1 on any break.",
    )
    _schemas_argument(check)
    baseline = check.add_mutually_exclusive_group()
    baseline.add_argument(
        "--against-git", metavar="REF", help="compare with schemas/ at this git revision"
    )
    baseline.add_argument(
        "--registry", metavar="URL", help="compare with what this schema registry holds"
    )
    check.add_argument(
        "--format",
        choices=("text", "json", "github"),
        default="text",
        help="text lines, a JSON array, or GitHub Actions annotations (default: %(default)s)",
    )
    check.set_defaults(func=run_check)

    register_ = commands.add_parser(
        "register",
        help="register every subject's history in a registry, in order",
        description="Register every version of every subject, oldest first, and set each "
        "subject's compatibility level. Checks everything first and changes nothing when the "
        "registry would reject a version. Idempotent.",
    )
    _schemas_argument(register_)
    register_.add_argument("--registry", metavar="URL", required=True, help="the registry")
    register_.add_argument(
        "--dry-run", action="store_true", help="print what would change, change nothing"
    )
    register_.set_defaults(func=run_register)


def _schemas_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--schemas",
        type=Path,
        default=DEFAULT_SCHEMAS,
        metavar="DIR",
        help="the schemas folder (default: %(default)s)",
    )


def run_check(args: argparse.Namespace) -> int:
    """Run the compatibility gate; 1 when anything breaks."""
    from evp.contract.breaking import find_breaks
    from evp.contract.catalog import load_catalog
    from evp.contract.history import SubjectHistory, history_from_catalog, history_from_registry
    from evp_codegen.gate.baseline import history_from_git

    current = history_from_catalog(load_catalog(args.schemas).require_valid())
    baseline: dict[str, SubjectHistory] | None = None
    if args.against_git:
        baseline = history_from_git(args.against_git, args.schemas)
        against = f"git {args.against_git}"
    elif args.registry:
        with _client(args.registry) as client:
            baseline = history_from_registry(client, current, url=redact_url(args.registry))
        against = f"registry {redact_url(args.registry)}"
    else:
        against = "their own history"
    breaks = find_breaks(current, baseline, only_current=bool(args.registry))
    here = Path.cwd().resolve()
    if args.format == "json":
        print(json.dumps([b.to_json(here) for b in breaks], indent=2, ensure_ascii=False))
    else:
        for item in breaks:
            print(item.github(here) if args.format == "github" else item.format(here))
    errors = sum(b.severity is Severity.ERROR for b in breaks)
    checked = sum(len(h.versions) for h in current.values())
    print(
        f"checked {checked} versions of {len(current)} subjects against {against}: "
        f"{_count(errors, 'break')}, {_count(len(breaks) - errors, 'warning')}",
        file=sys.stderr,
    )
    return 1 if errors else 0


def run_register(args: argparse.Namespace) -> int:
    """Register the history; 1 when the registry would reject it (nothing changed)."""
    from evp.contract.catalog import load_catalog

    catalog = load_catalog(args.schemas).require_valid()
    with _client(args.registry) as client:
        return _register(catalog, client, args)


def _register(catalog: Any, client: Any, args: argparse.Namespace) -> int:
    from evp.contract.registration import RegistrationRefused, plan_registration

    try:
        plan = plan_registration(catalog, client, redact_url(args.registry))
    except RegistrationRefused as refused:
        here = Path.cwd().resolve()
        for item in refused.breaks:
            print(item.format(here))
        print(f"evp schemas register: {refused.message}", file=sys.stderr)
        return 1
    if plan.changes == 0:
        print(f"{redact_url(args.registry)}: already up to date ({len(catalog.subjects)} subjects)")
        return 0
    if args.dry_run:
        for level in plan.levels:
            print(f"would set {level.subject} to {level.level}")
        for step in plan.registrations:
            print(f"would register {step.subject} v{step.version}")
        return 0
    plan.apply(client, print)
    print(f"{redact_url(args.registry)}: {plan.changes} change(s) made", file=sys.stderr)
    return 0


def _client(url: str) -> Any:
    from confluent_kafka.schema_registry import SchemaRegistryClient

    return SchemaRegistryClient({"url": url})


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
