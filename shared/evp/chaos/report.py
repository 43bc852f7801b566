"""The chaos run's report: the faults injected, the orders by outcome, latency, invariants."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evp.chaos.audit import Audit
from evp.chaos.injector import Injected
from evp.chaos.load import Placed
from evp.chaos.quiescence import Quiet
from evp.chaos.schedule import Schedule
from evp.demo.invariants import Verdict
from evp.demo.report import percentile

__all__ = ["RELAY_NOTE", "ChaosReport"]

RELAY_NOTE = (
    "each service's outbox relay runs inside the service's own process (there is no relay "
    "process apart), so a service killed is its relay killed"
)


@dataclass
class ChaosReport:
    """What a chaos run did and showed, and whether every invariant held."""

    seed: int
    rate: float
    concurrency: int
    replicas: dict[str, int]
    schedule: Schedule
    injected: list[Injected]
    placed: list[Placed]
    audit: Audit
    quiet: Quiet
    verdicts: list[Verdict]
    duration_s: float
    data_dir: str | None = None
    """Where the platform's data and logs were kept (``None``: removed)."""

    @property
    def passed(self) -> bool:
        """Whether every invariant held."""
        return all(verdict.passed for verdict in self.verdicts)

    def document(self) -> dict[str, Any]:
        """The JSON form (``--json FILE``)."""
        orders = self.audit.observation.orders
        by_kind: dict[str, Counter[str]] = {}
        for order in orders:
            by_kind.setdefault(order.kind, Counter())[order.reason or str(order.status)] += 1
        times = list(self.audit.latencies.values())
        lateness = [p.late_s for p in self.placed]
        return {
            "passed": self.passed,
            "seed": self.seed,
            "duration_s": round(self.duration_s, 1),
            "data_dir": self.data_dir,
            "relay": RELAY_NOTE,
            "load": {
                "arrivals": len(self.placed),
                "rate_per_s": self.rate,
                "concurrency": self.concurrency,
                "replicas": self.replicas,
                "max_late_s": round(max(lateness, default=0.0), 2),
                "retried": sum(1 for p in self.placed if p.attempts > 1),
                "not_placed": sum(1 for p in self.placed if p.order_id is None),
                "cancels_refused": sum(1 for p in self.placed if p.cancel_status == 409),
            },
            "faults": [injected.document() for injected in self.injected],
            "orders": {
                "placed": len(orders),
                "by_outcome": dict(
                    sorted(Counter(_outcome(o.status, o.reason) for o in orders).items())
                ),
                "by_kind": {k: dict(sorted(v.items())) for k, v in sorted(by_kind.items())},
            },
            "latency_s": {
                "measured": "OrderPlaced to the first terminal event, by the events' own times",
                "p50": _rounded(percentile(times, 50)),
                "p99": _rounded(percentile(times, 99)),
                "max": _rounded(max(times, default=None)),
                "count": len(times),
                "bound": self.audit.bound_s,
            },
            "quiescence": {
                "reached": self.quiet.reached,
                "waited_s": round(self.quiet.waited_s, 1),
                **(self.quiet.last.document() if self.quiet.last else {}),
            },
            "read_models": [model.document() for model in self.audit.read_models],
            "invariants": [verdict.document() for verdict in self.verdicts],
        }

    def write(self, path: Path) -> None:
        """Write the JSON form to ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.document(), indent=2) + "\n", encoding="utf-8")

    def text(self) -> str:
        """The report as printed."""
        doc = self.document()
        load, orders, latency = doc["load"], doc["orders"], doc["latency_s"]
        lines = [
            "",
            f"CHAOS REPORT (seed {self.seed}, {doc['duration_s']} s)",
            f"note: {RELAY_NOTE}",
            f"load: {load['arrivals']} orders at {self.rate:g}/s, open loop, at most "
            f"{self.concurrency} in flight (latest start {load['max_late_s']} s late); "
            f"{load['retried']} retried with their Idempotency-Key, "
            f"{load['not_placed']} not placed",
            f"faults injected: {len(self.injected)}",
            f"  {'AT':>7}  {'PROCESS':<16} {'KIND':<8} {'PID BEFORE -> AFTER':<22} DOWN",
        ]
        for injected in self.injected:
            fault = injected.fault
            down = "never back" if injected.down_s is None else f"{injected.down_s:.1f} s"
            pids = f"{injected.pid_before} -> {injected.pid_after}"
            kind = fault.kind.value + (f" {fault.hold_s:.0f}s" if fault.hold_s else "")
            lines.append(
                f"  {injected.at:6.1f}s  {fault.process.name:<16} {kind:<8} {pids:<22} {down}"
                + ("" if injected.back else "  NOT BACK")
            )
        lines.append(f"orders placed: {orders['placed']}")
        lines += [f"  {outcome:<28} {n:>5}" for outcome, n in orders["by_outcome"].items()]
        lines.append("by kind (kind: outcome x n):")
        for kind, outcomes in orders["by_kind"].items():
            lines.append(f"  {kind:<24} " + ", ".join(f"{o} x{n}" for o, n in outcomes.items()))
        lines.append(
            f"latency OrderPlaced -> terminal: p50 {latency['p50']} s, p99 {latency['p99']} s, "
            f"max {latency['max']} s ({latency['count']} orders; bound {latency['bound']:g} s)"
        )
        quiet = doc["quiescence"]
        lines.append(
            f"quiescence: {'reached' if quiet['reached'] else 'NOT reached'} "
            f"{quiet['waited_s']} s after the last fault and order"
        )
        lines.append("invariants:")
        for verdict in self.verdicts:
            figures = ", ".join(f"{k}={v}" for k, v in verdict.figures.items())
            lines.append(f"  {'PASS' if verdict.passed else 'FAIL'}  {verdict.name}: {figures}")
            lines += [f"        {offender}" for offender in verdict.offenders]
        if self.data_dir:
            lines.append(f"data and logs kept in {self.data_dir}")
        lines.append(
            "ALL INVARIANTS HOLD" if self.passed else "SOME INVARIANTS FAILED (exit status 1)"
        )
        return "\n".join(lines)


def _outcome(status: str | None, reason: str | None) -> str:
    return f"{status}:{reason}" if reason else str(status or "NO ORDER")


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
