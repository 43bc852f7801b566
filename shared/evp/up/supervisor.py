"""Child processes started in tiers, restarted with backoff when they crash, stopped in reverse.

Why not circus, supervisor or honcho: ``evp up`` must know when each child is *ready*
(a line saying where it listens, then a health probe) before it starts the next tier, and
must learn the address and pid of every (re)started instance to keep the state file
current. supervisord and circus are daemons configured by files that report a process as
"running" once it has not exited for ``startsecs``, with no readiness hook, and would add
a dependency and a second process to talk to; honcho runs a Procfile and stops everything
when one process dies. What we need of them (backoff that grows and resets after a stable
run, a log line per restart, SIGTERM then SIGKILL after a grace time, per-child log
files) is the hundred lines below, on asyncio's subprocess support.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from evp.up.child import Child, ChildSpec
from evp.up.errors import ChildFailed

__all__ = ["Backoff", "Supervisor", "ordinal"]


@dataclass(frozen=True)
class Backoff:
    """The wait before restart ``n`` (1-based): ``initial`` doubled each time, up to ``maximum``.

    A child that ran for ``stable`` seconds before it crashed starts over at ``initial``.
    """

    initial: float = 0.5
    maximum: float = 30.0
    stable: float = 60.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before the ``attempt``-th restart in a row."""
        return float(min(self.maximum, self.initial * 2 ** max(0, attempt - 1)))


class Supervisor:
    """Starts tiers of children, keeps them running, stops them last tier first."""

    def __init__(
        self,
        *,
        report: Callable[[str], None] = print,
        on_change: Callable[[], None] = lambda: None,
        backoff: Backoff | None = None,
        grace: float = 30.0,
        ready_timeout: float = 120.0,
        echo: Callable[[str], None] | None = None,
        hurry: asyncio.Event | None = None,
    ) -> None:
        self.report = report
        self.on_change = on_change
        self.backoff = backoff or Backoff()
        self.grace = grace
        self.ready_timeout = ready_timeout
        self._echo = echo
        self._tiers: list[list[Child]] = []
        self._watchers: list[asyncio.Task[None]] = []
        self._stopping = False
        self._hurry = hurry or asyncio.Event()
        """Once set, children still stopping are killed instead of waited for."""

    @property
    def children(self) -> list[Child]:
        """Every child, in start order."""
        return [child for tier in self._tiers for child in tier]

    def pids(self) -> dict[str, list[int]]:
        """The pids of the running instances, by group, in start order."""
        found: dict[str, list[int]] = {}
        for child in self.children:
            pids = found.setdefault(child.spec.group, [])
            if child.pid is not None:
                pids.append(child.pid)
        return found

    async def start(self, specs: Sequence[ChildSpec]) -> list[Child]:
        """Start one tier, all at once, and return once every child is ready.

        If one fails, the others of the tier are stopped and :class:`ChildFailed` raised;
        earlier tiers keep running (the caller decides whether to stop them).
        """
        tier = [Child(spec, echo=self._echo) for spec in specs]
        self._tiers.append(tier)
        results = await asyncio.gather(
            *(child.start(self.ready_timeout) for child in tier), return_exceptions=True
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            await asyncio.gather(*(child.stop(self.grace, self._hurry) for child in tier))
            self._tiers.remove(tier)
            raise failures[0]
        for child in tier:
            child.spec = child.spec.pinned(child.address or "")
            self._watchers.append(asyncio.create_task(self._watch(child), name=child.name))
        self.on_change()
        return tier

    async def _watch(self, child: Child) -> None:
        attempt = 0
        loop = asyncio.get_running_loop()
        while True:
            code = await child.wait()
            if self._stopping:
                return
            ran = loop.time() - child.started_at
            attempt = 1 if ran >= self.backoff.stable else attempt + 1
            child.restarts += 1
            delay = self.backoff.delay(attempt)
            self.report(
                f"restarting {child.name} in {delay:.1f} s "
                f"(exit {code}, {ordinal(child.restarts)} restart)"
            )
            self.on_change()  # its pid is gone
            await asyncio.sleep(delay)
            try:
                await child.start(self.ready_timeout)
            except ChildFailed as error:
                self.report(f"{child.name} did not come back: {error.reason}")
                continue
            self.report(f"{child.name} restarted (pid {child.pid}) at {child.address or '-'}")
            self.on_change()

    async def stop(self) -> None:
        """Stop every child, last tier first; each tier's children together."""
        self._stopping = True
        for watcher in self._watchers:
            watcher.cancel()
        for watcher in self._watchers:
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        self._watchers.clear()
        for tier in reversed(self._tiers):
            names = ", ".join(child.name for child in tier if child.running)
            if names:
                self.report(f"stopping {names}")
            await asyncio.gather(*(child.stop(self.grace, self._hurry) for child in tier))
        self.on_change()

    def hurry(self) -> None:
        """Stop waiting for graceful exits: whatever is still stopping is killed now."""
        self._hurry.set()


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, ... 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
