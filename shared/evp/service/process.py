"""A service run as a process of its own (``evp serve``), for tests and supervisors.

:class:`ServiceProcess` starts ``python -m evp serve SERVICE`` with an environment built from
:class:`~evp.service.ServiceSettings`, waits for the line saying where it listens, and
stops it gracefully (SIGTERM) or not (SIGKILL).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from evp.eventstore.database import database_url_variable
from evp.messaging.config import MessagingSettings
from evp.service.errors import ServiceStartError

__all__ = ["ServiceProcess", "service_environment"]

_LISTENING = re.compile(r"evp serve: (?P<name>\S+) listening on (?P<url>http://\S+)")


def service_environment(
    service: str,
    *,
    database_url: str,
    messaging: MessagingSettings,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment ``evp serve SERVICE`` reads the given settings from."""
    env = dict(os.environ)
    env.update(
        {
            database_url_variable(service): database_url,
            "SCHEMA_REGISTRY_URL": messaging.schema_registry_url,
            "EVP_TOPIC_PREFIX": messaging.topic_prefix,
            "EVP_SCHEMA_MODE": messaging.schema_mode.value,
        }
    )
    if messaging.bootstrap_servers is not None:
        env["KAFKA_BOOTSTRAP_SERVERS"] = messaging.bootstrap_servers
    if messaging.schema_registry_credentials is not None:
        env["SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO"] = (
            messaging.schema_registry_credentials.user_info()
        )
    env.update(extra or {})
    return env


class ServiceProcess:
    """``evp serve SERVICE`` in a child process, its output read line by line."""

    def __init__(self, service: str, env: Mapping[str, str], *, cwd: Path | None = None) -> None:
        self.service = service
        self._env = dict(env)
        self._cwd = cwd
        self.process: subprocess.Popen[str] | None = None
        self.url: str | None = None
        self.output: list[str] = []

    async def start(self, timeout: float = 60.0) -> str:
        """Start the process and wait until it listens; its base URL."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "evp", "serve", self.service],
            cwd=self._cwd,
            env=self._env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        async with asyncio.timeout(timeout):
            while True:
                line = await self.next_line()
                found = _LISTENING.search(line)
                if found:
                    self.url = found["url"]
                    return self.url

    async def next_line(self) -> str:
        """The process's next line of output; :class:`ServiceStartError` once it has ended."""
        process = self.process
        assert process is not None
        assert process.stdout is not None
        line = await asyncio.to_thread(process.stdout.readline)
        if not line:
            code = process.wait(10)
            tail = "".join(self.output[-20:])
            raise ServiceStartError(
                f"evp serve {self.service}", RuntimeError(f"exited with {code}:\n{tail}")
            )
        self.output.append(line)
        return line.rstrip("\n")

    def drain_output(self) -> None:
        """Keep reading output in the background so the child never blocks on a full pipe."""
        process = self.process
        assert process is not None
        assert process.stdout is not None
        stdout = process.stdout

        def pump() -> None:
            for line in stdout:
                self.output.append(line)

        asyncio.get_running_loop().run_in_executor(None, pump)

    def kill(self) -> int:
        """SIGKILL: no shutdown, no commit. The exit status."""
        return self._signal(signal.SIGKILL)

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM, and wait for the graceful stop. The exit status."""
        return self._signal(signal.SIGTERM, timeout)

    def _signal(self, number: int, timeout: float = 10.0) -> int:
        process = self.process
        assert process is not None
        if process.poll() is None:
            process.send_signal(number)
        return process.wait(timeout)

    def close(self) -> None:
        """Kill the process if it still runs, and release its pipe."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
