"""The fault schedule: which process is hit, when, and how, decided by a seed; pure data.

The processes are the registry and every service instance (``inventory.2`` with
``--replicas inventory=2``). The outbox relay runs inside each service process here, so
killing a service kills its relay too; there is no relay process of its own to hit. The
broker keeps its topics in memory only and Postgres is ``evp up``'s own, not a
supervised child: neither is a target.

The rules, each a test in ``tests/chaos``:

* kills are drawn round by round, each round every process once in a random order, so
  ``faults >= len(processes)`` hits every process; a shorter run still hits the registry
  (the one process every service needs);
* ``pause`` adds one SIGSTOP of ``pause_s`` seconds then SIGCONT, of a service instance
  (of a replicated service when there is one: its group then rebalances to the others);
* faults are spread over the window in slots, one at a time: a fault starts only once the
  one before has ended (the injector waits for the process to be back), so at most one
  process is down at any moment and a replicated service always keeps a running instance.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["REGISTRY", "Fault", "FaultKind", "Process", "Schedule", "plan_faults", "processes"]

REGISTRY = "registry"
"""The registry's process name (and group) in ``evp up``'s supervisor."""


class FaultKind(enum.StrEnum):
    """What is done to the process."""

    KILL = "SIGKILL"
    PAUSE = "SIGSTOP"


@dataclass(frozen=True)
class Process:
    """A supervised process that can be hit: its name, its group, how many its group has."""

    name: str
    group: str
    replicas: int = 1


@dataclass(frozen=True)
class Fault:
    """One fault: ``at`` seconds into the run, ``kind`` on ``process`` (a pause lasts
    ``hold_s`` seconds)."""

    at: float
    process: Process
    kind: FaultKind
    hold_s: float = 0.0

    def document(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "at_s": round(self.at, 2),
            "process": self.process.name,
            "kind": self.kind.value,
            "hold_s": self.hold_s,
        }


@dataclass(frozen=True)
class Schedule:
    """The faults of a run, in time order."""

    faults: tuple[Fault, ...]
    seed: int

    def hit(self) -> set[str]:
        """The names of the processes some fault hits."""
        return {fault.process.name for fault in self.faults}


def processes(services: Sequence[str], replicas: dict[str, int]) -> list[Process]:
    """The registry, then every instance of ``services`` (named as ``evp up`` names them)."""
    found = [Process(REGISTRY, REGISTRY)]
    for service in services:
        count = replicas.get(service, 1)
        found += [
            Process(service if n == 1 else f"{service}.{n}", service, count)
            for n in range(1, count + 1)
        ]
    return found


def plan_faults(
    targets: Sequence[Process],
    *,
    kills: int,
    window: tuple[float, float],
    seed: int,
    pause: bool = False,
    pause_s: float = 40.0,
) -> Schedule:
    """``kills`` SIGKILLs (and one pause when ``pause``) spread over ``window`` (seconds from
    the start of the run), the same for the same arguments."""
    rng = random.Random(seed)
    chosen = _kill_targets(targets, kills, rng)
    kinds = [FaultKind.KILL] * len(chosen)
    holds = [0.0] * len(chosen)
    if pause:
        spot = rng.randint(0, len(chosen))
        chosen.insert(spot, _pause_target(targets, rng))
        kinds.insert(spot, FaultKind.PAUSE)
        holds.insert(spot, pause_s)
    start, end = window
    # Each fault gets a slot of the window, a pause its hold on top: it ends before the
    # next slot begins.
    width = max(0.0, end - start - sum(holds)) / max(1, len(chosen))
    faults = []
    cursor = start
    for target, kind, hold in zip(chosen, kinds, holds, strict=True):
        # In the first half of its slot: the second half leaves it time to end.
        faults.append(Fault(round(cursor + rng.uniform(0, 0.5) * width, 2), target, kind, hold))
        cursor += width + hold
    return Schedule(tuple(faults), seed)


def _kill_targets(targets: Sequence[Process], count: int, rng: random.Random) -> list[Process]:
    chosen: list[Process] = []
    while len(chosen) < count:
        round_ = list(targets)
        rng.shuffle(round_)
        chosen += round_
    chosen = chosen[:count]
    registry = [t for t in targets if t.name == REGISTRY]
    if count and registry and registry[0] not in chosen:
        chosen[rng.randrange(count)] = registry[0]
    return chosen


def _pause_target(targets: Iterable[Process], rng: random.Random) -> Process:
    services = [t for t in targets if t.name != REGISTRY]
    replicated = [t for t in services if t.replicas > 1]
    return rng.choice(replicated or services)
