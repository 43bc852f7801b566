"""What the shop's orders cost: CPU time by process, and Postgres commits.

* CPU: user + system time of each process tree (a service instance, the broker, the
  Postgres server with all its backends), read from ``/proc/<pid>/stat`` -- a tree's time
  is what its live members used plus what its exited members left in their parents'
  ``cutime``/``cstime``, so backends that come and go are counted too;
* commits: ``pg_stat_database.xact_commit`` summed over the services' databases (every
  committed transaction, read-only ones included), and the transaction ids handed out
  (``pg_current_snapshot()``'s xmax: one per transaction that wrote, so one per commit that
  has to reach the WAL);
* the limit: single-row INSERT-and-commit transactions in a tight loop on the same server,
  from one connection and from several (group commit), the best rate.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import asyncpg

from evp.postgres import create_database, drop_database, unique_name

__all__ = [
    "CommitMarks",
    "CpuMeter",
    "PerOrder",
    "commit_marks",
    "commit_rates",
    "cpu_between",
    "per_order",
    "postmaster_pid",
]

_TICKS = os.sysconf("SC_CLK_TCK")
_PROC = Path("/proc")


@dataclasses.dataclass(frozen=True, slots=True)
class _Stat:
    ppid: int
    own: int
    """utime + stime, in clock ticks."""
    reaped: int
    """cutime + cstime: what its exited and waited-for children used."""


def _stats() -> dict[int, _Stat]:
    """Every process's CPU counters, by pid."""
    found: dict[int, _Stat] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:  # gone since the listing
            continue
        # The command name, in parentheses, may hold spaces: fields start after the last ")".
        fields = text[text.rindex(")") + 2 :].split()
        found[int(entry.name)] = _Stat(
            ppid=int(fields[1]),
            own=int(fields[11]) + int(fields[12]),
            reaped=int(fields[13]) + int(fields[14]),
        )
    return found


def _tree_ticks(root: int, stats: Mapping[int, _Stat], children: Mapping[int, list[int]]) -> int:
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        stat = stats.get(pid)
        if stat is not None:
            total += stat.own + stat.reaped
            pending += children.get(pid, [])
    return total


class CpuMeter:
    """CPU seconds used so far by named process trees, and by this process itself.

    This process is counted alone (``self_name``), not as a tree: its children are the
    platform's processes, which have names of their own. ``helpers`` are processes inside
    those trees that work for this one (its Postgres backends): their time is moved from
    the tree to ``self_name``.
    """

    def __init__(
        self, roots: Mapping[str, int], *, self_name: str, helpers: Sequence[int] = ()
    ) -> None:
        self.roots = dict(roots)
        self.self_name = self_name
        self.helpers = list(helpers)

    def sample(self) -> dict[str, float]:
        """CPU seconds of each tree since it started."""
        stats = _stats()
        children: dict[int, list[int]] = {}
        for pid, stat in stats.items():
            children.setdefault(stat.ppid, []).append(pid)
        ticks = {name: _tree_ticks(pid, stats, children) for name, pid in self.roots.items()}
        mine = 0
        names = {pid: name for name, pid in self.roots.items()}
        for helper in self.helpers:
            counters = stats.get(helper)
            if counters is None:
                continue
            mine += counters.own + counters.reaped
            ancestor = helper
            while ancestor in stats and ancestor not in names:
                ancestor = stats[ancestor].ppid
            if ancestor in names:
                ticks[names[ancestor]] -= counters.own + counters.reaped
        found = {name: used / _TICKS for name, used in ticks.items()}
        found[self.self_name] = time.process_time() + mine / _TICKS
        return found


def cpu_between(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    """CPU seconds each name used between two samples."""
    return {name: after[name] - before.get(name, 0.0) for name in after}


def postmaster_pid(data_dir: Path) -> int:
    """The pid of the Postgres server whose cluster is ``data_dir`` (its postmaster.pid)."""
    return int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])


# -- commits ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class CommitMarks:
    """Counters read at one moment (``at``, monotonic seconds)."""

    at: float
    commits: int
    """``xact_commit`` summed over the databases asked about."""
    writes: int
    """Transaction ids handed out on the whole server so far."""


@dataclasses.dataclass(frozen=True, slots=True)
class PerOrder:
    """Commits one order needs, net of the background and of the bench's own queries."""

    commits: float
    writes: float


_MARKS = """
SELECT (SELECT coalesce(sum(xact_commit), 0)::bigint FROM pg_stat_database
        WHERE datname = ANY($1::text[])),
       pg_snapshot_xmax(pg_current_snapshot())::text::bigint
"""


async def commit_marks(connection: Any, databases: Sequence[str]) -> CommitMarks:
    """The counters now; ``connection`` must not be to one of ``databases``.

    Neither read is a commit of those databases, nor takes a transaction id.
    """
    commits, writes = await connection.fetchrow(_MARKS, list(databases))
    return CommitMarks(time.monotonic(), int(commits), int(writes))


def per_order(
    before: CommitMarks,
    after: CommitMarks,
    *,
    orders: int,
    idle: tuple[CommitMarks, CommitMarks] | None = None,
    own_commits: int = 0,
) -> PerOrder:
    """Commits per order between two marks: the background's rate over ``idle`` (two marks
    taken while no order ran) and ``own_commits`` (the bench's queries) left out."""
    if orders <= 0:
        raise ValueError("no orders to share the commits between")
    seconds = after.at - before.at
    idle_commits = idle_writes = 0.0
    if idle is not None:
        quiet_from, quiet_to = idle
        span = quiet_to.at - quiet_from.at
        idle_commits = (quiet_to.commits - quiet_from.commits) / span * seconds
        idle_writes = (quiet_to.writes - quiet_from.writes) / span * seconds
    commits = after.commits - before.commits - own_commits - idle_commits
    writes = after.writes - before.writes - idle_writes
    return PerOrder(commits=commits / orders, writes=writes / orders)


# -- the limit ----------------------------------------------------------------------------

_TABLE = "CREATE TABLE bench_commits (id bigserial PRIMARY KEY, n integer NOT NULL)"
_INSERT = "INSERT INTO bench_commits (n) VALUES ($1)"


async def commit_rates(
    admin_url: str, connections: Sequence[int], seconds: float
) -> dict[int, float]:
    """Single-row INSERT-and-commit transactions per second, for each number of concurrent
    connections, in a fresh database of the server at ``admin_url``."""
    name = unique_name("bench_commits")
    url = await create_database(admin_url, name)
    try:
        setup = await asyncpg.connect(url)
        try:
            await setup.execute(_TABLE)
        finally:
            await setup.close()
        return {count: await _rate(url, count, seconds) for count in connections}
    finally:
        await drop_database(admin_url, name)


async def _rate(url: str, count: int, seconds: float) -> float:
    pool = [await asyncpg.connect(url) for _ in range(count)]
    try:
        for connection in pool:  # prepared before the clock starts
            await connection.execute(_INSERT, 0)
        until = time.monotonic() + seconds

        async def insert(connection: Any) -> int:
            done = 0
            while time.monotonic() < until:
                await connection.execute(_INSERT, done)
                done += 1
            return done

        started = time.monotonic()
        done = await asyncio.gather(*(insert(c) for c in pool))
        return sum(done) / (time.monotonic() - started)
    finally:
        for connection in pool:
            await connection.close()
