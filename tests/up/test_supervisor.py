"""The supervisor: children restarted with backoff and reported, stopped in reverse order."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest

from evp.up import Backoff, ChildFailed, Supervisor
from evp.up.child import ChildSpec
from evp.up.supervisor import ordinal
from tests.up.conftest import sleeper

FAST = Backoff(initial=0.1, maximum=0.4, stable=60)


async def _until(condition: object, timeout: float = 15) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.02)


async def test_a_crashed_child_is_restarted_with_backoff_and_reported() -> None:
    """SIGKILL a child twice: it comes back each time, after a growing wait, with a new pid."""
    lines: list[str] = []
    supervisor = Supervisor(report=lines.append, backoff=FAST, grace=2)
    try:
        (child,) = await supervisor.start([sleeper("orders")])
        first = child.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        await _until(lambda: child.pid not in (None, first))
        second = child.pid
        assert second is not None
        os.kill(second, signal.SIGKILL)
        await _until(lambda: child.pid not in (None, second))
    finally:
        await supervisor.stop()
    restarts = [line for line in lines if line.startswith("restarting")]
    assert restarts == [
        "restarting orders in 0.1 s (exit -9, 1st restart)",
        "restarting orders in 0.2 s (exit -9, 2nd restart)",
    ]
    assert child.restarts == 2


async def test_a_restart_keeps_the_address_it_pinned() -> None:
    """The spec a child is restarted with is the one its pin made from its first address."""
    pinned: list[str] = []

    def pin(spec: ChildSpec, address: str) -> ChildSpec:
        pinned.append(address)
        return spec.with_env(PINNED=address)

    supervisor = Supervisor(report=lambda line: None, backoff=FAST, grace=2)
    try:
        (child,) = await supervisor.start([sleeper("users", pin=pin)])
        assert child.spec.env["PINNED"] == pinned[0] == child.address
    finally:
        await supervisor.stop()


async def test_tiers_stop_in_reverse_order() -> None:
    """The last tier started is stopped first; the first tier last."""
    lines: list[str] = []
    supervisor = Supervisor(report=lines.append, grace=2)
    await supervisor.start([sleeper("broker")])
    await supervisor.start([sleeper("registry")])
    await supervisor.start([sleeper("orders"), sleeper("payments")])
    children = supervisor.children
    await supervisor.stop()
    assert lines == ["stopping orders, payments", "stopping registry", "stopping broker"]
    assert all(not child.running for child in children)
    assert supervisor.pids() == {"broker": [], "registry": [], "orders": [], "payments": []}


async def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_time() -> None:
    """SIGTERM first; SIGKILL once the grace time is up."""
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready at x', flush=True); time.sleep(60)"
    )
    spec = ChildSpec("stubborn", "stubborn", (sys.executable, "-c", code), ready=sleeper("x").ready)
    supervisor = Supervisor(report=lambda line: None, grace=0.5)
    (child,) = await supervisor.start([spec])
    started = asyncio.get_running_loop().time()
    await supervisor.stop()
    assert asyncio.get_running_loop().time() - started < 5
    assert not child.running


async def test_a_child_that_exits_before_it_is_ready_fails_the_start_with_its_output() -> None:
    """ChildFailed carries the exit status and the last lines it printed."""
    code = "print('cannot bind', flush=True); raise SystemExit(3)"
    spec = ChildSpec("broken", "broken", (sys.executable, "-c", code), ready=sleeper("x").ready)
    supervisor = Supervisor(report=lambda line: None, grace=1)
    with pytest.raises(ChildFailed) as raised:
        await supervisor.start([spec])
    assert raised.value.reason == "exited with 3"
    assert raised.value.tail == ("cannot bind",)
    assert supervisor.children == []


def test_backoff_doubles_up_to_its_maximum() -> None:
    """0.5, 1, 2, 4 ... capped."""
    backoff = Backoff(initial=0.5, maximum=3)
    assert [backoff.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_ordinals() -> None:
    """English ordinal suffixes, teens included."""
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th",
    ]  # fmt: skip
