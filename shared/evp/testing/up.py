"""``evp up`` as a test fixture: the whole platform in a subprocess, on fresh data and topics.

What the environment configures (a Kafka, a registry, databases, SMTP, an admin password)
would make ``evp up`` use it instead of starting its own; a test wants the platform as a
newcomer gets it, so those variables are dropped.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from evp.up.environment import embedded_environment

__all__ = ["UpProcess", "running_up"]


class UpProcess:
    """A running ``evp up``: its process, its state file, and its output so far."""

    def __init__(self, process: subprocess.Popen[str], state_path: Path, output: Path) -> None:
        self.process = process
        self.state_path = state_path
        self.output = output

    def state(self) -> dict[str, Any]:
        """The state file as it is now (empty before it is first written)."""
        if not self.state_path.exists():
            return {}
        found: dict[str, Any] = json.loads(self.state_path.read_text())
        return found

    def wait_for(self, ready: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any]:
        """The state once ``ready(state)`` holds; AssertionError (with the output) if not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"evp up exited with {self.process.returncode}:\n{self.tail()}"
                )
            with contextlib.suppress(ValueError):
                state = self.state()
                if state and ready(state):
                    return state
            time.sleep(0.2)
        raise AssertionError(f"evp up was not ready in {timeout:.0f} s:\n{self.tail()}")

    def tail(self, characters: int = 4000) -> str:
        """The end of its output."""
        return self.output.read_text(errors="replace")[-characters:]

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, and its exit status (killed if it does not stop in ``timeout``)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()


@contextlib.contextmanager
def running_up(directory: Path, *arguments: str, cwd: Path | None = None) -> Iterator[UpProcess]:
    """``evp up ARGUMENTS --json FILE`` with data in ``directory``, a fresh topic prefix,
    stopped (SIGTERM) when the block ends."""
    directory.mkdir(parents=True, exist_ok=True)
    state_path = directory / "platform.json"
    output = directory / "evp-up.out"
    with output.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "evp", "up", "--json", str(state_path),
             "--topic-prefix", f"up-{uuid.uuid4().hex[:6]}.", *arguments],
            cwd=cwd, env=embedded_environment(directory / "data"), stdout=log,
            stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    up = UpProcess(process, state_path, output)
    try:
        yield up
    finally:
        up.stop()
