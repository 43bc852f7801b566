"""The registry section: lookups and registrations over HTTP against one registry worker.

The registry runs as ``evp registry serve`` (one uvicorn worker) in a process of its own,
on a fresh database of an embedded Postgres with durability off (so the numbers show the
registry's cost rather than the disk's), and without a log line per request
(``EVP_REGISTRY_ACCESS_LOG=false``, as behind a proxy that logs requests; on a small
machine the line costs as much as the rest of a lookup by id). The load comes from a third
process, :mod:`evp.bench.loadgen`, so that client and server never share an interpreter:

* lookups: ``GET /schemas/ids/{id}`` and ``POST /subjects/{s}`` over 100 registered
  schemas, at 32 keep-alive connections -- requests per second, p50 and p99 latency,
  against the issue's targets (3,000/s, p99 under 20 ms);
* registrations: distinct schemas into fresh subjects (BACKWARD, the default), at 32
  connections, each sent once;
* FULL_TRANSITIVE: the latency of registering one more version in a subject holding 1, 10
  and 100 compatible versions (the median over eleven subjects of each), and how it grows
  per 10x versions against linear growth (10x). Earlier versions are registered under NONE and the
  level set afterwards, so that setting up a hundred versions costs no quadratic checking.

The server is ``EVP_BENCH_DATABASE_URL`` or an embedded one (see :mod:`evp.bench.database`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx

from evp.bench.database import admin_url as bench_database
from evp.bench.errors import BenchError, SectionSkipped
from evp.bench.harness import QUICK, Budget, Row
from evp.bench.loadgen import LoadResult, Plan, Request, generate_load
from evp.postgres import PostgresError, create_database, drop_database, unique_name

__all__ = ["SECTION", "run"]

SECTION = "registry"
CONNECTIONS = 32
LOOKUP_TARGET_RATE = 3_000.0
P99_TARGET_MS = 20.0
VERSION_COUNTS = (1, 10, 100)
GET_BY_ID = "GET /schemas/ids/{id}"
LOOKUP_BY_SCHEMA = "POST /subjects/{s}"
REGISTER = "POST /subjects/{s}/versions"
TRANSITIVE = "register, FULL_TRANSITIVE"
LINEAR = "linear (10x)"
_SCHEMAS = 100
_START_TIMEOUT_S = 60.0


def run(budget: Budget) -> list[Row]:
    """Lookup and registration rates, latencies and the FULL_TRANSITIVE cost, on one worker."""
    with ExitStack() as stack:
        admin_url = bench_database(stack, SECTION)
        name = unique_name("bench_registry")
        try:
            database_url = asyncio.run(create_database(admin_url, name))
        except PostgresError as error:
            raise SectionSkipped(SECTION, str(error)) from error
        stack.callback(lambda: asyncio.run(drop_database(admin_url, name)))
        url = stack.enter_context(_registry_process(database_url))
        with httpx.Client(base_url=url, timeout=60.0) as client:
            bench = _Bench(url, client, quick=budget == QUICK)
            return [*bench.lookups(), *bench.registrations(), *bench.transitive()]


@contextmanager
def _registry_process(database_url: str) -> Iterator[str]:
    """``evp registry serve`` on a free port, stopped on exit; its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # No EVP_REGISTRY_* from the caller's environment: no users, no other database.
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVP_REGISTRY_")}
    env["EVP_REGISTRY_ACCESS_LOG"] = "false"
    command = [sys.executable, "-m", "evp", "registry", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--database-url", database_url]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_serving(url, process, log)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Any) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            tail = log.read().decode(errors="replace")[-2000:]
            raise BenchError(f"the registry exited with status {process.returncode}: {tail}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise BenchError(f"the registry did not start within {_START_TIMEOUT_S:.0f} s", url=url)


class _Bench:
    def __init__(self, url: str, client: httpx.Client, *, quick: bool) -> None:
        self.url = url
        self.client = client
        self.quick = quick
        self.warmup_s, self.duration_s = (0.1, 0.3) if quick else (1.0, 5.0)

    # -- lookups ------------------------------------------------------------------------

    def lookups(self) -> list[Row]:
        subjects = [f"lookup-{i}-value" for i in range(_SCHEMAS)]
        texts = [_schema(f"bench.lookup{i}") for i in range(_SCHEMAS)]
        ids = [self._register(s, t) for s, t in zip(subjects, texts, strict=True)]
        by_id = [Request("GET", f"/schemas/ids/{i}") for i in ids]
        by_schema = [
            Request("POST", f"/subjects/{s}", json.dumps({"schema": t}))
            for s, t in zip(subjects, texts, strict=True)
        ]
        rows: list[Row] = []
        for case, requests in ((GET_BY_ID, by_id), (LOOKUP_BY_SCHEMA, by_schema)):
            result = self._load(requests, steady=True)
            rate = result.rate
            rows += [
                Row(
                    SECTION,
                    case,
                    f"lookups, {CONNECTIONS} connections",
                    rate,
                    "req/s",
                    baseline=f"{LOOKUP_TARGET_RATE:,.0f} req/s",
                    ratio=rate / LOOKUP_TARGET_RATE,
                    target=1.0,
                ),
                Row(SECTION, case, "p50 latency", result.p50_ms, "ms"),
                Row(
                    SECTION,
                    case,
                    "p99 latency",
                    result.p99_ms,
                    "ms",
                    baseline=f"{P99_TARGET_MS:.0f} ms",
                    ratio=P99_TARGET_MS / max(result.p99_ms, 1e-9),
                    target=1.0,
                ),
            ]
        return rows

    # -- registrations ------------------------------------------------------------------

    def registrations(self) -> list[Row]:
        count = 2 * CONNECTIONS if self.quick else 2_000
        requests = [
            Request(
                "POST",
                f"/subjects/register-{i}-value/versions",
                json.dumps({"schema": _schema(f"bench.register{i}")}),
            )
            for i in range(count)
        ]
        result = self._load(requests, steady=False)
        metric = f"registrations, {CONNECTIONS} connections"
        return [
            Row(SECTION, REGISTER, metric, result.rate, "req/s"),
            Row(SECTION, REGISTER, "p50 latency", result.p50_ms, "ms"),
            Row(SECTION, REGISTER, "p99 latency", result.p99_ms, "ms"),
        ]

    # -- FULL_TRANSITIVE ----------------------------------------------------------------

    def transitive(self) -> list[Row]:
        repeats = 1 if self.quick else 11
        requests = []
        # Round by round, one registration per version count: a burst of load from
        # elsewhere on the machine then slows all three counts alike, not one of them.
        for repeat in range(repeats):
            for count in VERSION_COUNTS:
                subject = f"transitive-{count}-{repeat}-value"
                namespace = f"bench.transitive{count}_{repeat}"
                self._put(f"/config/{subject}", {"compatibility": "NONE"})
                for variant in range(count):
                    self._register(subject, _schema(namespace, variant))
                self._put(f"/config/{subject}", {"compatibility": "FULL_TRANSITIVE"})
                body = json.dumps({"schema": _schema(namespace, count)})
                requests.append(Request("POST", f"/subjects/{subject}/versions", body))
        # One connection, one registration at a time.
        each = self._load(requests, steady=False, connections=1).each_ms
        costs = {
            count: statistics.median(each[i :: len(VERSION_COUNTS)])
            for i, count in enumerate(VERSION_COUNTS)
        }
        rows = [
            Row(SECTION, TRANSITIVE, f"against {count} version{'s' * (count > 1)}", cost, "ms")
            for count, cost in costs.items()
        ]
        for fewer, more in itertools.pairwise(VERSION_COUNTS):
            growth = costs[more] / costs[fewer]
            rows.append(
                Row(
                    SECTION,
                    TRANSITIVE,
                    f"cost growth, {fewer} to {more} versions",
                    growth,
                    "x",
                    baseline=LINEAR,
                    ratio=(more / fewer) / growth,
                    target=1.0,
                )
            )
        return rows

    # -- helpers ------------------------------------------------------------------------

    def _load(
        self, requests: list[Request], *, steady: bool, connections: int = CONNECTIONS
    ) -> LoadResult:
        plan = Plan(
            self.url,
            tuple(requests),
            connections=connections,
            duration_s=self.duration_s if steady else None,
            warmup_s=self.warmup_s if steady else 0.0,
        )
        result = generate_load(plan)
        if result.failed or not result.completed:
            raise BenchError(
                f"{result.failed} requests failed, first: {result.first_failure}",
                section=SECTION,
            )
        return result

    def _register(self, subject: str, text: str) -> int:
        response = self.client.post(f"/subjects/{subject}/versions", json={"schema": text})
        _require_ok(response)
        schema_id: int = response.json()["id"]
        return schema_id

    def _put(self, path: str, body: dict[str, Any]) -> None:
        _require_ok(self.client.put(path, json=body))


def _require_ok(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise BenchError(
            f"the registry answered {response.status_code}: {response.text[:300]}",
            section=SECTION,
            url=str(response.url),
        )


def _schema(namespace: str, variant: int | None = None) -> str:
    """An order-like event schema in ``namespace``; ``variant`` adds one optional field.

    Variants differ only in which optional field (with a default) they carry, so every
    variant of a namespace is fully compatible with every other one -- each reader fills in
    its own field and skips the writer's -- and all are the same size, so a check against
    100 of them costs 100 times a check against one.
    """
    fields: list[dict[str, Any]] = [
        {"name": "event_id", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "occurred_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "order_id", "type": "string", "doc": "The order this event is about."},
        {"name": "customer", "type": "string"},
        {
            "name": "status",
            "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID", "SHIPPED"]},
        },
        {
            "name": "lines",
            "type": {
                "type": "array",
                "items": {
                    "type": "record",
                    "name": "Line",
                    "fields": [
                        {"name": "sku", "type": "string"},
                        {"name": "quantity", "type": "int"},
                        {"name": "unit_price_cents", "type": "long"},
                    ],
                },
            },
        },
        {"name": "total_cents", "type": "long"},
        {"name": "note", "type": ["null", "string"], "default": None},
    ]
    if variant is not None:
        fields.append({"name": f"revision_{variant}", "type": ["null", "string"], "default": None})
    schema = {"type": "record", "name": "OrderEvent", "namespace": namespace, "fields": fields}
    return json.dumps(schema, indent=2)
