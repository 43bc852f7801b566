"""Timing and reporting shared by every section: best-of-N throughput, rows, one table.

A section hands :func:`throughput` zero-argument callables (one operation each) and turns
the rates into :class:`Row` values; comparisons against a baseline carry a ratio (higher is
better for us) and, where the issue sets one, a target ratio; a value that must stay low
(a cost per event) carries its ceiling as ``at_most`` instead.
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["FULL", "QUICK", "Budget", "Row", "render_table", "rows_to_json", "throughput"]


@dataclasses.dataclass(frozen=True, slots=True)
class Budget:
    """How long to warm up and time each workload, and how many timed rounds to keep the best of."""

    warmup_s: float
    round_s: float
    repeats: int


FULL = Budget(warmup_s=0.2, round_s=0.02, repeats=60)
# A smoke run: every code path once or twice, numbers too noisy to read anything into.
QUICK = Budget(warmup_s=0.002, round_s=0.005, repeats=2)


@dataclasses.dataclass(frozen=True, slots=True)
class Row:
    """One measurement, optionally compared with a baseline case of the same section."""

    section: str
    case: str
    metric: str
    value: float
    unit: str
    baseline: str | None = None
    ratio: float | None = None
    target: float | None = None
    stretch: float | None = None
    at_most: float | None = None
    """A ceiling on ``value`` itself (lower is better, in ``unit``), e.g. a cost per event."""

    @property
    def met(self) -> bool | None:
        """Whether the ratio reaches the target and the value stays within ``at_most``.

        ``None`` when the row has neither.
        """
        verdicts: list[bool] = []
        if self.target is not None and self.ratio is not None:
            verdicts.append(self.ratio >= self.target)
        if self.at_most is not None:
            verdicts.append(self.value <= self.at_most)
        return all(verdicts) if verdicts else None


def throughput(workloads: Mapping[str, Callable[[], object]], budget: Budget) -> dict[str, float]:
    """Operations per second of each workload: the best of ``budget.repeats`` timed rounds.

    Rounds are interleaved across workloads, so a burst of load from elsewhere on the
    machine hits every contender alike instead of one of them. As in ``timeit``, the
    garbage collector is off while timing, so a collection does not land on one contender.
    """
    numbers = {name: _warm_up(op, budget) for name, op in workloads.items()}
    best_ns = dict.fromkeys(workloads, math.inf)
    collecting = gc.isenabled()
    gc.disable()
    try:
        for _ in range(budget.repeats):
            for name, op in workloads.items():
                per_op = _time(op, numbers[name]) / numbers[name]
                best_ns[name] = min(best_ns[name], per_op)
    finally:
        if collecting:
            gc.enable()
    return {name: 1e9 / max(ns, 1.0) for name, ns in best_ns.items()}


def _warm_up(op: Callable[[], object], budget: Budget) -> int:
    """Run ``op`` for the warm-up time; return how many calls fill one timed round."""
    calls, elapsed = 0, 0
    deadline = budget.warmup_s * 1e9
    while calls < 3 or elapsed < deadline:
        step = max(1, calls)
        elapsed += _time(op, step)
        calls += step
    return max(1, math.ceil(budget.round_s * 1e9 * calls / max(elapsed, 1)))


def _time(op: Callable[[], object], number: int) -> int:
    start = time.perf_counter_ns()
    for _ in itertools.repeat(None, number):
        op()
    return time.perf_counter_ns() - start


# -- reporting ----------------------------------------------------------------------------

_COLUMNS = ("section", "case", "metric", "value", "unit", "baseline", "ratio", "target")
_RIGHT = frozenset({"value", "ratio", "target"})


def render_table(rows: Sequence[Row]) -> str:
    """The rows as one aligned table, followed by a line per target saying whether it is met."""
    cells = [_COLUMNS, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(_COLUMNS))]
    lines = [
        "  ".join(
            cell.rjust(width) if column in _RIGHT else cell.ljust(width)
            for column, cell, width in zip(_COLUMNS, line, widths, strict=True)
        ).rstrip()
        for line in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines += _verdicts(rows)
    return "\n".join(lines)


def rows_to_json(rows: Sequence[Row], **meta: Any) -> str:
    """The rows and run metadata (``meta``) as a JSON document."""
    document = {"meta": meta, "rows": [{**dataclasses.asdict(r), "met": r.met} for r in rows]}
    return json.dumps(document, indent=2) + "\n"


def _cells(row: Row) -> tuple[str, ...]:
    target = "" if row.target is None else f">= {row.target:.2f}x"
    if row.stretch is not None:
        target += f" (stretch {row.stretch:.2f}x)"
    if row.at_most is not None:
        target += f"{' and ' if target else ''}<= {_number(row.at_most)}"
    return (
        row.section,
        row.case,
        row.metric,
        _number(row.value),
        row.unit,
        row.baseline or "",
        "" if row.ratio is None else f"{row.ratio:.2f}x",
        target,
    )


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _verdicts(rows: Sequence[Row]) -> list[str]:
    lines: list[str] = []
    for row in rows:
        if row.at_most is not None:
            what = f"{row.section}: {row.case} {row.metric} {_number(row.value)} {row.unit}"
            verdict = "met" if row.value <= row.at_most else "MISSED"
            lines.append(f"target {verdict}: {what} (<= {_number(row.at_most)} {row.unit})")
        if row.target is None or row.ratio is None:
            continue
        what = f"{row.section}: {row.case} {row.metric} vs {row.baseline} {row.ratio:.2f}x"
        verdict = "met" if row.ratio >= row.target else "MISSED"
        line = f"target {verdict}: {what} (>= {row.target:.2f}x"
        if row.stretch is not None:
            line += (
                f"; stretch {row.stretch:.2f}x {'met' if row.ratio >= row.stretch else 'not met'}"
            )
        lines.append(line + ")")
    return ["", *lines] if lines else []
