"""One supervised child process: how to start it, when it counts as ready, how to stop it.

A child is ready when a line of its output matches :attr:`ChildSpec.ready` (which also
says where it listens: the ``address`` group) and then its health probe passes. Output
goes to a log file of its own (and, when asked, to the terminal prefixed by its name);
the last lines are kept to show why it failed. Children run in a session of their own, so
a Ctrl-C at the terminal reaches ``evp up`` only, which then stops them in order.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import re
import signal
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from evp.up.errors import ChildFailed, Unreachable
from evp.up.probes import until_healthy

__all__ = ["Child", "ChildSpec"]

_TAIL = 20
_LINE_LIMIT = 8 * 1024 * 1024
"""Longest output line read whole (asyncio's 64 KiB default is short for a JSON log line
carrying a traceback; past the limit the reader fails and the child would block)."""


@dataclass(frozen=True)
class ChildSpec:
    """What to run, and how to tell it is ready."""

    name: str
    """The instance's name, e.g. ``orders`` or ``inventory.2``."""
    group: str
    """What it is an instance of (``inventory``): the key of its pid in the state file."""
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    ready: re.Pattern[str] | None = None
    """A line that says the child is up; its ``address`` group, if any, is where."""
    probe: Callable[[str], Awaitable[None]] | None = None
    """Given the address, returns once the child is healthy (raises Unreachable if not)."""
    pin: Callable[[ChildSpec, str], ChildSpec] | None = None
    """The spec to restart with, given the address it got (so a restart keeps its port)."""
    log: Path | None = None

    def pinned(self, address: str) -> ChildSpec:
        """The spec for a restart that keeps ``address``."""
        return self.pin(self, address) if self.pin is not None else self

    def with_env(self, **changes: str) -> ChildSpec:
        """A copy with environment variables changed."""
        return replace(self, env={**self.env, **changes})


class Child:
    """A running (or exited) instance of a :class:`ChildSpec`."""

    def __init__(self, spec: ChildSpec, *, echo: Callable[[str], None] | None = None) -> None:
        self.spec = spec
        self.address: str | None = None
        self.restarts = 0
        self.started_at = 0.0
        self.tail: collections.deque[str] = collections.deque(maxlen=_TAIL)
        self._echo = echo
        self._process: asyncio.subprocess.Process | None = None
        self._pump: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[str] | None = None

    @property
    def name(self) -> str:
        """The instance's name."""
        return self.spec.name

    @property
    def pid(self) -> int | None:
        """The process id while it runs."""
        process = self._process
        return process.pid if process is not None and process.returncode is None else None

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.pid is not None

    async def start(self, timeout: float) -> str:
        """Start the process and wait until it is ready; its address (``""`` if it has none).

        Raises :class:`ChildFailed` if it exits first or is not healthy in ``timeout``; the
        process is killed then.
        """
        loop = asyncio.get_running_loop()
        self.tail.clear()
        self._ready = loop.create_future()
        log = _open_log(self.spec.log)
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.spec.argv,
                env=dict(self.spec.env),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                limit=_LINE_LIMIT,
            )
        except OSError as error:
            if log is not None:
                log.close()
            raise ChildFailed(self.name, f"could not start: {error}") from error
        self.started_at = loop.time()
        if self.spec.ready is None:
            self._ready.set_result("")  # ready as soon as it runs (the probe may say more)
        self._pump = asyncio.create_task(self._read(self._process, log), name=f"{self.name}-out")
        try:
            async with asyncio.timeout(timeout):
                address = await self._ready
                if self.spec.probe is not None:
                    await until_healthy(lambda: self._probe(address), timeout=timeout)
        except (ChildFailed, Unreachable, TimeoutError) as error:
            await self.kill()
            reason = str(error) if not isinstance(error, TimeoutError) else "timed out"
            if isinstance(error, ChildFailed):
                raise
            raise ChildFailed(
                self.name, f"did not get healthy in {timeout:.0f} s ({reason})", tail=(*self.tail,)
            ) from error
        self.address = address
        return address

    async def _probe(self, address: str) -> None:
        if self._process is not None and self._process.returncode is not None:
            raise ChildFailed(
                self.name, f"exited with {self._process.returncode}", tail=(*self.tail,)
            )
        assert self.spec.probe is not None
        await self.spec.probe(address)

    async def wait(self) -> int:
        """Wait until the process exits (its output read to the end); its exit status."""
        process = self._process
        assert process is not None, "not started"
        code = await process.wait()
        if self._pump is not None:
            await self._pump
        return code

    async def stop(self, grace: float, hurry: asyncio.Event | None = None) -> int | None:
        """SIGTERM, up to ``grace`` seconds (or until ``hurry`` is set) to exit, then SIGKILL."""
        process = self._process
        if process is None or process.returncode is not None:
            return None if process is None else process.returncode
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        waiters = [asyncio.ensure_future(process.wait())]
        if hurry is not None:
            waiters.append(asyncio.ensure_future(hurry.wait()))
        try:
            await asyncio.wait(waiters, timeout=grace, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters[1:]:
                waiter.cancel()
        if process.returncode is None:
            await self.kill()
        return await self.wait()

    async def kill(self) -> None:
        """SIGKILL the process (and whatever it started in its session), and reap it."""
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        await self.wait()

    async def _read(self, process: asyncio.subprocess.Process, log: IO[str] | None) -> None:
        assert process.stdout is not None
        try:
            async for raw in process.stdout:
                line = raw.decode(errors="replace").rstrip("\n")
                self.tail.append(line)
                if log is not None:
                    log.write(line + "\n")
                    log.flush()
                if self._echo is not None:
                    self._echo(f"{self.name} | {line}")
                self._check_ready(line)
        finally:
            if log is not None:
                log.close()
            if self._ready is not None and not self._ready.done():
                code = await process.wait()
                self._ready.set_exception(
                    ChildFailed(self.name, f"exited with {code}", tail=(*self.tail,))
                )

    def _check_ready(self, line: str) -> None:
        ready = self._ready
        if ready is None or ready.done() or self.spec.ready is None:
            return
        found = self.spec.ready.search(line)
        if found:
            groups = found.groupdict()
            ready.set_result(groups.get("address") or "")


def _open_log(path: Path | None) -> IO[str] | None:
    if path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("a", encoding="utf-8")
