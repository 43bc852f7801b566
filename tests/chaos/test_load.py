"""The load's arrivals: open loop at a steady rate, every order of the mix, each with its key."""

from __future__ import annotations

from evp.chaos.load import arrivals
from evp.demo.mix import Kind, plan


def test_arrivals_come_at_the_rate_with_the_burst_in_the_middle() -> None:
    """Order ``i`` is due at ``i / rate``; the burst's orders sit together mid-run."""
    mix = plan(60, seed=2)
    due = arrivals(mix, rate=4.0, seed=2)
    assert len(due) == mix.size
    assert [a.at for a in due] == [round(i / 4.0, 3) for i in range(mix.size)]
    bursts = [i for i, a in enumerate(due) if a.order.kind == Kind.BURST]
    assert bursts == list(range(bursts[0], bursts[0] + len(mix.burst)))
    assert bursts[0] == len(mix.steady) // 2


def test_every_arrival_has_an_idempotency_key_of_its_own() -> None:
    """Keys differ between the orders of a run, and between seeds."""
    keys = [a.key for a in arrivals(plan(40, seed=1), rate=2.0, seed=1)]
    other = {a.key for a in arrivals(plan(40, seed=5), rate=2.0, seed=5)}
    assert len(set(keys)) == len(keys)
    assert not other & set(keys)
