"""A load generator in a process of its own: HTTP/1.1 keep-alive requests over N connections.

``python -m evp.bench.loadgen`` reads a :class:`Plan` as JSON on stdin and writes a
:class:`LoadResult` as JSON on stdout; :func:`generate_load` runs it so, so that the
client's CPU time is never charged to the server under test. A plan either cycles its
requests for a fixed time after a warm-up (throughput and latency under steady load), or
sends each request exactly once (registrations, which must not repeat).

Requests go over bare asyncio streams (on uvloop where installed) rather than httpx: on a
small machine httpx's own per-request cost would make the client, not the server, the
bottleneck. Responses must carry a ``Content-Length`` (every Starlette ``Response`` does).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from evp.bench.errors import BenchError

__all__ = ["LoadResult", "Plan", "Request", "generate_load", "main"]

_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


@dataclasses.dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request of a plan; ``body`` is JSON text."""

    method: str
    path: str
    body: str | None = None

    def encode(self, host: str) -> bytes:
        """The request as bytes on the wire, keep-alive."""
        body = b"" if self.body is None else self.body.encode()
        head = f"{self.method} {self.path} HTTP/1.1\r\nHost: {host}\r\n"
        if self.body is not None:
            head += f"Content-Type: {_CONTENT_TYPE}\r\n"
        head += f"Content-Length: {len(body)}\r\n\r\n"
        return head.encode() + body


@dataclasses.dataclass(frozen=True, slots=True)
class Plan:
    """What to send where: ``requests`` over ``connections`` connections.

    With ``duration_s`` each connection cycles through the requests (each starting at a
    different one) for ``warmup_s`` untimed and then ``duration_s`` timed; without it,
    every request is sent exactly once and the whole run is timed.
    """

    url: str
    requests: tuple[Request, ...]
    connections: int = 32
    duration_s: float | None = None
    warmup_s: float = 0.0

    def to_json(self) -> str:
        """The plan as JSON, as the load generator's stdin takes it."""
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Plan:
        """The plan in ``text`` (see :meth:`to_json`)."""
        data: dict[str, Any] = json.loads(text)
        requests = tuple(Request(**item) for item in data.pop("requests"))
        return cls(requests=requests, **data)


@dataclasses.dataclass(frozen=True, slots=True)
class LoadResult:
    """Completed requests, their rate and latency percentiles, and any failure.

    A plan sending each request once also gets every request's latency, in plan order
    (``each_ms``), so that requests of different kinds can be interleaved in one plan.
    """

    completed: int
    failed: int
    seconds: float
    p50_ms: float
    p99_ms: float
    first_failure: str | None = None
    each_ms: tuple[float, ...] = ()

    @property
    def rate(self) -> float:
        """Completed requests per second."""
        return self.completed / self.seconds if self.seconds > 0 else 0.0


def generate_load(plan: Plan, *, timeout_s: float = 600.0) -> LoadResult:
    """Run ``plan`` in a fresh ``python -m evp.bench.loadgen`` process; its result."""
    process = subprocess.run(
        [sys.executable, "-m", "evp.bench.loadgen"],
        input=plan.to_json(),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if process.returncode != 0:
        raise BenchError(f"the load generator failed: {process.stderr.strip()[-2000:]}")
    data = json.loads(process.stdout)
    return LoadResult(**{**data, "each_ms": tuple(data["each_ms"])})


def main() -> int:
    """Read a plan on stdin, run it, write the result on stdout."""
    plan = Plan.from_json(sys.stdin.read())
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is not built for Windows
        result = asyncio.run(_run(plan))
    else:
        result = uvloop.run(_run(plan))
    print(json.dumps(dataclasses.asdict(result)))
    return 0


# -- running a plan -------------------------------------------------------------------


class _Tally:
    """Latencies (ns) of the requests that count, the failures, and the first one's text."""

    def __init__(self) -> None:
        self.latencies: list[int] = []
        self.by_request: dict[int, int] = {}
        self.failed = 0
        self.first_failure: str | None = None

    def fail(self, request: Request, what: str) -> None:
        self.failed += 1
        if self.first_failure is None:
            self.first_failure = f"{request.method} {request.path}: {what}"


class _Connection:
    """One keep-alive connection sending one request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> _Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def send(self, wire: bytes) -> tuple[int, bytes]:
        """Send one encoded request; the response's status and body."""
        self._writer.write(wire)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = _content_length(head)
        body = await self._reader.readexactly(length) if length else b""
        return status, body

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise BenchError("a response without Content-Length", head=head.decode(errors="replace"))


async def _run(plan: Plan) -> LoadResult:
    address = urlsplit(plan.url)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    sender = _Sender(plan, f"{host}:{port}")
    connections = [await _Connection.open(host, port) for _ in range(plan.connections)]
    try:
        if plan.duration_s is None:
            start = time.perf_counter()
            pending = iter(range(len(plan.requests)))
            await asyncio.gather(*(sender.once(c, pending) for c in connections))
            seconds = time.perf_counter() - start
        else:
            timed_from = time.perf_counter_ns() + int(plan.warmup_s * 1e9)
            window = (timed_from, timed_from + int(plan.duration_s * 1e9))
            await asyncio.gather(*(sender.cycle(c, i, window) for i, c in enumerate(connections)))
            seconds = plan.duration_s
    finally:
        for connection in connections:
            await connection.close()
    tally = sender.tally
    latencies = sorted(tally.latencies)
    return LoadResult(
        completed=len(latencies),
        failed=tally.failed,
        seconds=seconds,
        p50_ms=_percentile(latencies, 0.50) / 1e6,
        p99_ms=_percentile(latencies, 0.99) / 1e6,
        first_failure=tally.first_failure,
        each_ms=tuple(tally.by_request[i] / 1e6 for i in sorted(tally.by_request)),
    )


class _Sender:
    """Sends a plan's requests over given connections, tallying what counts."""

    def __init__(self, plan: Plan, host: str) -> None:
        self.plan = plan
        self.wires = [request.encode(host) for request in plan.requests]
        self.tally = _Tally()

    async def once(self, connection: _Connection, pending: Iterator[int]) -> None:
        """Send requests taken from ``pending`` until it runs dry, timing each one."""
        # One shared iterator: whichever connection is free takes the next request.
        for index in pending:
            started = time.perf_counter_ns()
            status, body = await connection.send(self.wires[index])
            latency = time.perf_counter_ns() - started
            self.tally.by_request[index] = latency
            if 200 <= status < 300:
                self.tally.latencies.append(latency)
            else:
                self.tally.fail(self.plan.requests[index], f"HTTP {status} {body[:300]!r}")

    async def cycle(self, connection: _Connection, offset: int, window: tuple[int, int]) -> None:
        """Cycle through the requests until the window closes, timing those inside it."""
        timed_from, until = window
        # Spread the connections over the plan, so that they do not all ask for one thing.
        index = offset * len(self.wires) // self.plan.connections
        while (started := time.perf_counter_ns()) < until:
            status, body = await connection.send(self.wires[index])
            ended = time.perf_counter_ns()
            if not 200 <= status < 300:
                self.tally.fail(self.plan.requests[index], f"HTTP {status} {body[:300]!r}")
            elif started >= timed_from and ended <= until:
                self.tally.latencies.append(ended - started)
            index = (index + 1) % len(self.wires)


def _percentile(ordered: list[int], fraction: float) -> float:
    """The nearest-rank percentile of ``ordered``; 0 when it is empty."""
    if not ordered:
        return 0.0
    return float(ordered[max(0, math.ceil(fraction * len(ordered)) - 1)])


if __name__ == "__main__":
    sys.exit(main())
