"""The injector: carries out a :class:`~evp.chaos.schedule.Schedule` on a running platform.

A kill is ``SIGKILL`` to the process; ``evp up``'s supervisor restarts it (on the same
port) and the fault ends when the new process answers its health probe there. A pause is
``SIGSTOP``, ``hold_s`` seconds, then ``SIGCONT``; it ends when the process answers again.
Faults run one after the other: the next starts at its time or when the one before ended,
whichever is later, so at most one process is down at any moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from evp.chaos.schedule import REGISTRY, Fault, FaultKind, Schedule
from evp.up import RunningPlatform, Unreachable
from evp.up.child import Child
from evp.up.probes import http_ready, registry_answers, until_healthy

__all__ = ["Injected", "Injector"]

_BACK_TIMEOUT_S = 120.0
"""How long a process gets to be back (restarted and healthy, or answering after SIGCONT)."""


@dataclass
class Injected:
    """A fault as it happened: when, to what, and how the process came back."""

    fault: Fault
    at: float
    """Seconds from the start of the run when the signal was sent."""
    pid_before: int | None
    pid_after: int | None = None
    address_before: str | None = None
    address_after: str | None = None
    down_s: float | None = None
    """From the signal until the process answered again; ``None``: it did not."""

    @property
    def back(self) -> bool:
        """Whether the process answered again, at the address it had (a kill: as a new
        process)."""
        if self.down_s is None or self.address_after != self.address_before:
            return False
        if self.fault.kind is FaultKind.KILL:
            return self.pid_after is not None and self.pid_after != self.pid_before
        return self.pid_after == self.pid_before

    def document(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            **self.fault.document(),
            "at_s": round(self.at, 2),
            "planned_at_s": self.fault.at,
            "pid_before": self.pid_before,
            "pid_after": self.pid_after,
            "address_before": self.address_before,
            "address_after": self.address_after,
            "down_s": None if self.down_s is None else round(self.down_s, 2),
            "back": self.back,
        }


class Injector:
    """Sends a schedule's signals to ``running``'s children and sees them come back."""

    def __init__(self, running: RunningPlatform, say: Callable[[str], None]) -> None:
        self.running = running
        self.say = say
        self.injected: list[Injected] = []

    async def run(self, schedule: Schedule, started: float) -> list[Injected]:
        """Inject every fault of ``schedule`` (times from ``started``, a monotonic time)."""
        for fault in schedule.faults:
            await asyncio.sleep(max(0.0, started + fault.at - time.monotonic()))
            self.injected.append(await self.inject(fault, started))
        return self.injected

    async def inject(self, fault: Fault, started: float) -> Injected:
        """Inject ``fault`` now; return once the process is back (or gave up on)."""
        child = self._child(fault.process.name)
        pid, restarts = child.pid, child.restarts
        injected = Injected(
            fault, time.monotonic() - started, pid_before=pid, address_before=child.address
        )
        if pid is None:
            self.say(f"chaos: {child.name} is not running; nothing to {fault.kind.value}")
            return injected
        hit = time.monotonic()
        if fault.kind is FaultKind.KILL:
            os.kill(pid, signal.SIGKILL)
            self.say(f"chaos: SIGKILL {child.name} (pid {pid})")
        else:
            os.kill(pid, signal.SIGSTOP)
            self.say(f"chaos: SIGSTOP {child.name} (pid {pid}) for {fault.hold_s:.0f} s")
            try:
                await asyncio.sleep(fault.hold_s)
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)
            self.say(f"chaos: SIGCONT {child.name} (pid {pid})")
        try:
            async with asyncio.timeout(_BACK_TIMEOUT_S):
                if fault.kind is FaultKind.KILL:
                    while not self._restarted(child, pid, restarts):
                        await asyncio.sleep(0.1)
                await until_healthy(lambda: self._probe(child), timeout=_BACK_TIMEOUT_S)
        except (TimeoutError, Unreachable):
            self.say(f"chaos: {child.name} did not come back in {_BACK_TIMEOUT_S:.0f} s")
            return injected
        injected.down_s = time.monotonic() - hit
        injected.pid_after, injected.address_after = child.pid, child.address
        self.say(
            f"chaos: {child.name} back as pid {child.pid} at {child.address} "
            f"after {injected.down_s:.1f} s"
        )
        return injected

    def _child(self, name: str) -> Child:
        for child in self.running.supervisor.children:
            if child.name == name:
                return child
        raise LookupError(f"no supervised process is called {name}")

    def _restarted(self, child: Child, pid: int, restarts: int) -> bool:
        # The state's pids change only once the supervisor saw the new process ready, and
        # by then the child's address is the one it restarted on.
        new = child.pid
        listed = self.running.state.pids.get(child.spec.group, [])
        return child.restarts > restarts and new not in (None, pid) and new in listed

    async def _probe(self, child: Child) -> None:
        # The address it had before the fault: back means back where the others look.
        address = child.address or ""
        if child.spec.group == REGISTRY:
            await registry_answers(address)
        else:
            await http_ready(address)
