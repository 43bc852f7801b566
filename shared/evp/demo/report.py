"""The demo's report: orders by outcome, latency, events, dead letters, every invariant."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evp.demo.invariants import Verdict, check_all
from evp.demo.scenario import Outcome

__all__ = ["Report", "percentile"]


def percentile(values: list[float], p: float) -> float | None:
    """The nearest-rank ``p``-th percentile (0 < p <= 100); ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Report:
    """What a run showed, and whether every invariant held."""

    outcome: Outcome
    verdicts: list[Verdict]
    seed: int
    duration_s: float

    @classmethod
    def of(cls, outcome: Outcome, *, seed: int, duration_s: float) -> Report:
        """The report of ``outcome``, its invariants checked (and the chaos service back)."""
        verdicts = check_all(outcome.observation)
        chaos = outcome.chaos
        verdicts.append(
            Verdict(
                f"killed service came back ({chaos.service})",
                chaos.new_pid is not None,
                chaos.document(),
            )
        )
        return cls(outcome, verdicts, seed, duration_s)

    @property
    def passed(self) -> bool:
        """Whether every invariant held."""
        return all(verdict.passed for verdict in self.verdicts)

    def document(self) -> dict[str, Any]:
        """The JSON form (``--json FILE``)."""
        orders = self.outcome.observation.orders
        by_state = Counter(order.status or "NO ANSWER" for order in orders)
        by_reason = Counter(
            f"{order.status}:{order.reason}" if order.reason else str(order.status)
            for order in orders
        )
        by_kind: dict[str, Counter[str]] = {}
        for order in orders:
            outcome = order.reason or order.status or "NO ANSWER"
            by_kind.setdefault(order.kind, Counter())[outcome] += 1
        latencies = self.outcome.latencies
        return {
            "passed": self.passed,
            "seed": self.seed,
            "duration_s": round(self.duration_s, 1),
            "orders": {
                "placed": len(orders),
                "by_state": dict(sorted(by_state.items())),
                "by_reason": dict(sorted(by_reason.items())),
                "by_kind": {k: dict(sorted(v.items())) for k, v in sorted(by_kind.items())},
                "cancels_refused": self.outcome.cancels_refused,
            },
            "latency_s": {
                "measured": "OrderPlaced (the POST) to the terminal event, by the events' times",
                "p50": _rounded(percentile(latencies, 50)),
                "p99": _rounded(percentile(latencies, 99)),
                "count": len(latencies),
            },
            "events": self.outcome.events,
            "dead_letters": self.outcome.observation.dead_letters,
            "chaos": self.outcome.chaos.document(),
            "invariants": [verdict.document() for verdict in self.verdicts],
        }

    def write(self, path: Path) -> None:
        """Write the JSON form to ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.document(), indent=2) + "\n", encoding="utf-8")

    def text(self) -> str:
        """The report as printed."""
        doc = self.document()
        orders = doc["orders"]
        lines = [
            "",
            f"REPORT (seed {self.seed}, {doc['duration_s']} s)",
            f"orders placed: {orders['placed']}",
        ]
        lines += [f"  {state:<28} {n:>5}" for state, n in orders["by_reason"].items()]
        lines.append("by kind (kind: outcome x n):")
        for kind, outcomes in orders["by_kind"].items():
            shown = ", ".join(f"{o} x{n}" for o, n in outcomes.items())
            lines.append(f"  {kind:<20} {shown}")
        latency = doc["latency_s"]
        lines.append(
            f"latency POST -> terminal: p50 {latency['p50']} s, p99 {latency['p99']} s "
            f"({latency['count']} orders)"
        )
        events = doc["events"]
        lines.append(f"events per type ({sum(events.values())}, from analytics):")
        lines += [f"  {kind:<28} {n:>5}" for kind, n in events.items()]
        letters = doc["dead_letters"]
        lines.append(
            f"dead letters: {sum(letters.values())} in {len(letters)} dead-letter topic(s)"
        )
        lines.append("invariants:")
        for verdict in self.verdicts:
            figures = ", ".join(f"{k}={v}" for k, v in verdict.figures.items())
            lines.append(f"  {'PASS' if verdict.passed else 'FAIL'}  {verdict.name}: {figures}")
            lines += [f"        {offender}" for offender in verdict.offenders]
        lines.append(
            "ALL INVARIANTS HOLD" if self.passed else "SOME INVARIANTS FAILED (exit status 1)"
        )
        return "\n".join(lines)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
