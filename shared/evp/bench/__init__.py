"""``make bench``: throughput of the platform against baselines timed in the same process.

Each section (``codec`` first; registry, transport and event store later) is a module with
``run(budget) -> list[Row]``; :mod:`evp.bench.runner` runs them and prints one table.
"""

from evp.bench.errors import BenchError, Disagreement, SectionSkipped
from evp.bench.harness import FULL, QUICK, Budget, Row, render_table, rows_to_json, throughput

__all__ = [
    "FULL",
    "QUICK",
    "BenchError",
    "Budget",
    "Disagreement",
    "Row",
    "SectionSkipped",
    "render_table",
    "rows_to_json",
    "throughput",
]
