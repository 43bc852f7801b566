"""The fault schedule: repeatable by seed, every process over enough faults, one at a time."""

from __future__ import annotations

import itertools

from evp.chaos.schedule import REGISTRY, FaultKind, Process, plan_faults, processes
from evp.up import SERVICES

WINDOW = (10.0, 110.0)


def _targets(**replicas: int) -> list[Process]:
    return processes(SERVICES, replicas)


def test_processes_are_named_as_evp_up_names_them() -> None:
    """The registry, then each service instance: ``inventory.2`` is the second inventory."""
    names = [p.name for p in _targets(inventory=2)]
    assert names == [REGISTRY, "users", "orders", "inventory", "inventory.2", "payments",
                     "notifications", "analytics"]  # fmt: skip


def test_the_same_seed_gives_the_same_schedule() -> None:
    """Two plans with one seed are equal; another seed gives another schedule."""
    first = plan_faults(_targets(), kills=7, window=WINDOW, seed=3, pause=True)
    again = plan_faults(_targets(), kills=7, window=WINDOW, seed=3, pause=True)
    other = plan_faults(_targets(), kills=7, window=WINDOW, seed=4, pause=True)
    assert first == again
    assert first.faults != other.faults


def test_one_kill_per_process_hits_every_process() -> None:
    """As many kills as processes kill each of them once, replicas included."""
    targets = _targets(inventory=2, orders=3)
    for seed in range(20):
        schedule = plan_faults(targets, kills=len(targets), window=WINDOW, seed=seed)
        killed = [f.process.name for f in schedule.faults]
        assert sorted(killed) == sorted(t.name for t in targets)


def test_a_short_run_still_kills_the_registry() -> None:
    """With fewer kills than processes, the registry is always among them."""
    for seed in range(50):
        for kills in (1, 2, 3):
            schedule = plan_faults(_targets(), kills=kills, window=WINDOW, seed=seed)
            assert len(schedule.faults) == kills
            assert REGISTRY in schedule.hit()


def test_the_pause_is_one_instance_of_a_replicated_service() -> None:
    """``pause`` adds exactly one SIGSTOP, of an instance of the replicated service."""
    for seed in range(30):
        schedule = plan_faults(
            _targets(payments=2), kills=3, window=WINDOW, seed=seed, pause=True, pause_s=40
        )
        pauses = [f for f in schedule.faults if f.kind is FaultKind.PAUSE]
        assert len(schedule.faults) == 4
        assert [(p.process.group, p.hold_s) for p in pauses] == [("payments", 40)]


def test_without_replicas_the_pause_is_a_service_never_the_registry() -> None:
    """With every service single, the pause still goes to a service instance."""
    for seed in range(30):
        schedule = plan_faults(_targets(), kills=2, window=WINDOW, seed=seed, pause=True)
        (pause,) = [f for f in schedule.faults if f.kind is FaultKind.PAUSE]
        assert pause.process.name in SERVICES


def test_faults_are_in_the_window_one_at_a_time() -> None:
    """Faults come in time order inside the window, and a pause ends before the next one."""
    for seed in range(30):
        schedule = plan_faults(
            _targets(inventory=2), kills=9, window=WINDOW, seed=seed, pause=True, pause_s=30
        )
        faults = schedule.faults
        assert all(WINDOW[0] <= f.at <= WINDOW[1] for f in faults)
        for before, after in itertools.pairwise(faults):
            assert before.at + before.hold_s <= after.at
