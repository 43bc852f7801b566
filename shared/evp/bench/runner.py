"""``python -m evp.bench``: runs the sections, prints one table, optionally writes JSON.

A section is a module exposing ``run(budget: Budget) -> list[Row]``. Sections are imported
only when they run, so ``--section codec`` does not pay for Kafka or Postgres imports.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
from collections.abc import Sequence
from pathlib import Path

from evp.bench.errors import BenchError, SectionSkipped
from evp.bench.harness import FULL, QUICK, Budget, Row, render_table, rows_to_json

__all__ = ["SECTIONS", "build_parser", "main", "run_section"]

# Section name -> module, in the order the table lists them.
SECTIONS: dict[str, str] = {
    "codec": "evp.bench.codec",
    "eventstore": "evp.bench.eventstore",
    "registry": "evp.bench.registry",
    "saga": "evp.bench.saga",
    "transport": "evp.bench.transport",
}


def run_section(name: str, budget: Budget) -> list[Row]:
    """The rows of section ``name``; raises :class:`SectionSkipped` when it cannot run here."""
    rows: list[Row] = importlib.import_module(SECTIONS[name]).run(budget)
    return rows


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m evp.bench``."""
    parser = argparse.ArgumentParser(
        prog="python -m evp.bench",
        description="Throughput of the platform against baselines timed in the same process.",
    )
    parser.add_argument("--section", choices=list(SECTIONS), help="run only this section")
    parser.add_argument(
        "--quick", action="store_true", help="a short smoke run; the numbers mean little"
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the rows as JSON")
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 1 when a target is missed"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected sections and return the exit status."""
    args = build_parser().parse_args(argv)
    budget = QUICK if args.quick else FULL
    rows: list[Row] = []
    skipped: list[str] = []
    for name in [args.section] if args.section else list(SECTIONS):
        print(f"bench: running {name} ...", file=sys.stderr, flush=True)
        try:
            rows += run_section(name, budget)
        except SectionSkipped as skip:
            skipped.append(str(skip))
        except BenchError as error:
            print(f"bench: error: {error}", file=sys.stderr)
            return 2
    print(render_table(rows))
    for line in skipped:
        print(line)
    if args.json is not None:
        args.json.write_text(
            rows_to_json(
                rows,
                python=platform.python_version(),
                machine=platform.machine(),
                quick=args.quick,
                budget={"warmup_s": budget.warmup_s, "round_s": budget.round_s},
                repeats=budget.repeats,
                skipped=skipped,
            )
        )
    return 1 if args.strict and any(row.met is False for row in rows) else 0
