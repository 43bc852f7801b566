"""The saga section: orders through the whole shop, its six services as separate processes.

The platform boots as ``evp up`` boots it (:func:`evp.up.platform`, with the demo's
environment but a 10 s payment timeout, so that ``tok_slow`` orders end within the run and
happy ones do not time out while queued), in a fresh data directory:
a durable embedded Postgres, the embedded broker, the registry, the mail sink and the six
services, each a process of its own. The mix's customers register and log in; the products
the orders use get a million units each. Then, against the issue's targets:

* throughput: orders per second ended (confirmed or cancelled) at saturation, closed loop
  (:func:`evp.bench.shopload.closed_loop`), for the happy path (the demo mix's paid
  orders) and for the demo mix's steady orders (paid, declined, out of stock, payment
  timeout, customer cancel; no burst) -- against 100 orders/s. Saturation: customers are
  doubled (short windows) until the rate grows by less than a tenth, and the timed run
  uses the best number; the mix gets twice as many plus some, as its timed-out orders
  hold their customers for 10 s;
* latency: POST to terminal state, p50/p95/p99, at a fixed offered rate of half the happy
  path's throughput (open loop) -- p99 against 500 ms;
* cost: CPU milliseconds per order of every process, over the happy path's timed window
  (the bench's own client apart, with the time of its Postgres backends);
* the limit: single-row commits per second on the same Postgres (best of 1, 4 and 16
  connections), divided by the commits an order needs (``xact_commit`` over the services'
  databases, net of the idle background and of the bench's own queries), and the share of
  it the happy path reaches -- against one half;
* scaling (full runs only: a second boot costs 20 s): throughput and latency again with
  two instances of every consumer service.

Where the time goes is printed to stderr per run: CPU by process and how busy the machine
was, and for the latency run the median time between the saga's events.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from evp.bench.costs import (
    CommitMarks,
    CpuMeter,
    commit_marks,
    commit_rates,
    cpu_between,
    per_order,
    postmaster_pid,
)
from evp.bench.errors import BenchError, SectionSkipped
from evp.bench.harness import QUICK, Budget, Row
from evp.bench.shopload import (
    LoopResult,
    TerminalWatch,
    closed_loop,
    open_loop,
    recorded_elsewhere,
    step_gaps,
    with_producers,
)
from evp.demo.client import ShopClient
from evp.demo.mix import Kind, Mix, PlannedOrder, plan
from evp.demo.run import environment
from evp.postgres import EmbeddedPostgresError
from evp.postgres.database import database_url
from evp.service.service import installed_services
from evp.up import SERVICES, Plan, StepFailed, platform

__all__ = ["SECTION", "run"]

SECTION = "saga"
TARGET_RATE = 100.0
P99_TARGET_MS = 500.0
LIMIT_TARGET = 0.5
HAPPY = "happy path"
MIX = "realistic mix"
CLIENT = "bench client"
POSTGRES = "postgres"
COMMIT_CONNECTIONS = (1, 4, 16)
_PASSWORD = "bench correct horse battery"
_STOCK = 1_000_000  # inventory's most units per request
_TIMELINES = 500
"""Orders of the latency run whose saga steps are timed (a sample is plenty)."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Times:
    """How long each part runs, and the numbers of customers tried for saturation."""

    ramp: tuple[int, ...]
    """Customers tried in turn (closed loop, a short window each) until the rate stops
    growing by a tenth; the timed run then uses the best."""
    step_warmup_s: float
    step_window_s: float
    warmup_s: float
    window_s: float
    open_warmup_s: float
    open_window_s: float
    idle_s: float
    commit_s: float
    scaling: bool


_FULL = _Times(
    ramp=(16, 32, 64, 128),
    step_warmup_s=2.0,
    step_window_s=5.0,
    warmup_s=3.0,
    window_s=15.0,
    open_warmup_s=5.0,
    open_window_s=25.0,
    idle_s=5.0,
    commit_s=3.0,
    scaling=True,
)
_QUICK = _Times(
    ramp=(32,),
    step_warmup_s=0.0,
    step_window_s=0.0,
    warmup_s=1.0,
    window_s=3.0,
    open_warmup_s=1.0,
    open_window_s=3.0,
    idle_s=1.0,
    commit_s=0.3,
    scaling=False,
)
_ENVIRONMENT = {
    # The demo's 3 s would cancel happy orders queued behind a saturated platform; a
    # tok_slow order of the mix still times out (and is refunded) within a run.
    "ORDERS_PAYMENT_TIMEOUT_S": "10",
    "PAYMENTS_SLOW_APPROVAL_S": "12",
}
_MIX_EXTRA_CUSTOMERS = 64
"""Customers of the mix beyond twice the happy path's: about a ninth of its orders wait out
the 10 s payment timeout, holding a customer each."""


def run(budget: Budget) -> list[Row]:
    """Throughput, latency, CPU per order and the commit limit of the shop's saga."""
    times = _QUICK if budget == QUICK else _FULL
    schemas = _schemas()
    try:
        with warnings.catch_warnings():
            # pgserver warns that XDG_RUNTIME_DIR is unset on CI machines; nothing to act on.
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
            return asyncio.run(_run(times, schemas))
    except EmbeddedPostgresError as error:
        raise SectionSkipped(SECTION, str(error)) from error
    except StepFailed as error:
        if error.step == "postgres":
            raise SectionSkipped(SECTION, str(error)) from error
        raise BenchError(f"the platform did not boot: {error}", section=SECTION) from error


def _schemas() -> Path:
    """The repository's ``schemas/``: in the working directory, else beside the package."""
    for candidate in (Path("schemas"), Path(__file__).resolve().parents[3] / "schemas"):
        if candidate.is_dir():
            return candidate
    raise SectionSkipped(SECTION, "no schemas/ folder here (run from the repository root)")


def _mix() -> Mix:
    """The demo's mix of 200 orders (its steady ones are used; the burst is not)."""
    return plan(200, seed=1)


def _orders() -> tuple[list[PlannedOrder], list[PlannedOrder]]:
    """The happy path's orders and the realistic mix's."""
    mix = list(_mix().steady)
    return [order for order in mix if order.kind == Kind.PAID], mix


async def _run(times: _Times, schemas: Path) -> list[Row]:
    happy_orders, mix_orders = _orders()
    rows: list[Row] = []
    customers = times.ramp[0]
    for instances in (1, 2) if times.scaling else (1,):
        replicas = dict.fromkeys(_consumer_services(), instances)
        async with _Shop.boot(schemas, replicas=replicas) as shop:
            if instances == 1:
                rates = await shop.commit_rates(times.commit_s)
                idle = await shop.idle(times.idle_s)
            # From half of one instance's number: it warms the new platform up as well.
            ramp = tuple(n for n in times.ramp if n >= customers // 2) or (customers,)
            customers = await shop.saturate(happy_orders, ramp, times)
            happy = await shop.closed(HAPPY, happy_orders, customers, times)
            mix_customers = 2 * customers + _MIX_EXTRA_CUSTOMERS
            mix = await shop.closed(MIX, mix_orders, mix_customers, times)
            half = happy.result.rate / 2
            latency = await shop.open(happy_orders, half, times)
        rows += _throughput(HAPPY, instances, happy) + _throughput(MIX, instances, mix)
        rows += _latency(latency, half, instances)
        if instances == 1:
            rows += _cpu(happy) + _limit(rates, idle, happy)
    return rows


def _consumer_services() -> list[str]:
    """The services that consume from Kafka (handlers or Kafka-fed read models)."""
    return [
        name
        for name, service in installed_services(SERVICES).items()
        if service.handlers or service.kafka_projections
    ]


@dataclasses.dataclass(frozen=True, slots=True)
class _Phase:
    """One timed run: its orders, the CPU each process used and the commit counters."""

    what: str
    customers: int
    result: LoopResult
    cpu_s: Mapping[str, float]
    marks: tuple[CommitMarks, CommitMarks]
    own_commits: int


@dataclasses.dataclass
class _Shop:
    """A booted platform, its customers logged in, and the bench's meters on it."""

    client: ShopClient
    auth: list[dict[str, str]]
    watch: TerminalWatch
    meter: CpuMeter
    admin: Any
    """A connection to the server's ``postgres`` database (for the commit counters)."""
    admin_url: str
    urls: dict[str, str]
    """Each service's database URL."""

    @property
    def databases(self) -> list[str]:
        """The services' database names."""
        return [urlsplit(url).path.lstrip("/") for url in self.urls.values()]

    @classmethod
    @contextlib.asynccontextmanager
    async def boot(cls, schemas: Path, *, replicas: Mapping[str, int]) -> AsyncIterator[_Shop]:
        """The platform in a fresh data directory, ready to take orders."""
        with tempfile.TemporaryDirectory(prefix="evp-bench-saga-") as data_dir:
            env = {**environment(Path(data_dir)), **_ENVIRONMENT}
            boot_plan = Plan.from_env(
                env,
                replicas=replicas,
                schemas=schemas,
                topic_prefix=f"bench-{uuid.uuid4().hex[:6]}.",
            )
            boot_plan = dataclasses.replace(boot_plan, console_port=None)
            _say(f"booting the platform ({_replicas(replicas)})")
            started = time.monotonic()
            async with contextlib.AsyncExitStack() as stack:
                up = await stack.enter_async_context(
                    platform(boot_plan, environ=env, report=lambda line: None)
                )
                _say(f"booted in {time.monotonic() - started:.0f} s")
                urls = up.state.databases
                client = ShopClient(up.state.services, timeout=60.0)
                stack.push_async_callback(client.aclose)
                admin_url = database_url(urls["orders"], "postgres")
                orders_db = await asyncpg.connect(urls["orders"])
                stack.push_async_callback(orders_db.close)
                admin_db = await asyncpg.connect(admin_url)
                stack.push_async_callback(admin_db.close)
                watch = TerminalWatch(orders_db)
                stack.push_async_callback(_stop, asyncio.create_task(watch.run()))
                roots = {child.name: child.pid for child in up.supervisor.children if child.pid}
                roots[POSTGRES] = postmaster_pid(boot_plan.postgres_dir)
                backends = [orders_db.get_server_pid(), admin_db.get_server_pid()]
                meter = CpuMeter(roots, self_name=CLIENT, helpers=backends)
                auth = await _customers(client, up.admin.email, up.admin.password)
                shop = cls(client, auth, watch, meter, admin_db, admin_url, dict(urls))
                yield shop

    async def commit_rates(self, seconds: float) -> dict[int, float]:
        """Single-row commits per second on the platform's Postgres, by connections."""
        rates = await commit_rates(self.admin_url, COMMIT_CONNECTIONS, seconds)
        shown = ", ".join(f"{n} conn {rate:,.0f}/s" for n, rate in rates.items())
        _say(f"single-row commits: {shown}")
        return rates

    async def idle(self, seconds: float) -> tuple[CommitMarks, CommitMarks]:
        """Commit counters ``seconds`` apart while no order runs (the background's rate)."""
        cpu_before = self.meter.sample()
        before = await commit_marks(self.admin, self.databases)
        await asyncio.sleep(seconds)
        after = await commit_marks(self.admin, self.databases)
        cpu = cpu_between(cpu_before, self.meter.sample())
        span = after.at - before.at
        busiest = sorted(cpu.items(), key=lambda item: -item[1])[:3]
        _say(
            f"idle: {(after.commits - before.commits) / span:.1f} commits/s,"
            f" {(after.writes - before.writes) / span:.1f} writing/s,"
            f" {sum(cpu.values()) / span:.2f} cores busy"
            f" ({', '.join(f'{name} {100 * used / span:.0f}%' for name, used in busiest)})"
        )
        return before, after

    async def saturate(
        self, orders: Sequence[PlannedOrder], ramp: Sequence[int], times: _Times
    ) -> int:
        """The number of customers of ``ramp`` past which the rate grows by less than a
        tenth (the first, when there is only one)."""
        best, best_rate = ramp[0], 0.0
        for step, customers in enumerate(ramp if len(ramp) > 1 else ()):
            result = await closed_loop(
                self.client,
                self.auth,
                orders,
                self.watch,
                concurrency=customers,
                # The first orders after a boot are slow (connections, caches): longer.
                warmup_s=times.step_warmup_s * (3 if step == 0 else 1),
                duration_s=times.step_window_s,
            )
            _say(f"ramp: {customers} customers, {result.rate:.1f} orders/s ({_statuses(result)})")
            grew = result.rate > 1.1 * best_rate
            if result.rate > best_rate:
                best, best_rate = customers, result.rate
            if not grew:
                break
        return best

    async def closed(
        self, what: str, orders: Sequence[PlannedOrder], customers: int, times: _Times
    ) -> _Phase:
        """A closed loop of ``customers``, CPU and commits metered over its timed window."""
        meters: list[tuple[dict[str, float], CommitMarks, int]] = []

        async def mark() -> None:
            meters.append(
                (
                    self.meter.sample(),
                    await commit_marks(self.admin, self.databases),
                    self.watch.queries,
                )
            )

        async def timed() -> None:
            await asyncio.sleep(times.warmup_s)
            await mark()
            await asyncio.sleep(times.window_s)
            await mark()

        metering = asyncio.create_task(timed())
        try:
            result = await closed_loop(
                self.client,
                self.auth,
                orders,
                self.watch,
                concurrency=customers,
                warmup_s=times.warmup_s,
                duration_s=times.window_s,
            )
        except BaseException:
            metering.cancel()  # its connection is about to close
            raise
        await metering
        (cpu_before, first, queries_before), (cpu_after, last, queries_after) = meters
        phase = _Phase(
            what,
            customers,
            result,
            cpu_between(cpu_before, cpu_after),
            (first, last),
            queries_after - queries_before,
        )
        _report(phase, times.window_s)
        return phase

    async def open(self, orders: Sequence[PlannedOrder], rate: float, times: _Times) -> LoopResult:
        """An open loop at ``rate``; prints the median time between the saga's events."""
        result = await open_loop(
            self.client,
            self.auth,
            orders,
            self.watch,
            rate=rate,
            warmup_s=times.open_warmup_s,
            duration_s=times.open_window_s,
        )
        _say(
            f"open loop at {rate:.1f} orders/s: p50 {result.latency_ms(0.5):.0f} ms,"
            f" p99 {result.latency_ms(0.99):.0f} ms,"
            f" latest start {result.late_s * 1000:.0f} ms late"
        )
        sample = sorted(result.started)[:_TIMELINES]
        timelines = await self.watch.timelines(sample)
        others = {name: url for name, url in self.urls.items() if name != "orders"}
        event_ids = [step.event_id for steps in timelines.values() for step in steps]
        produced = await recorded_elsewhere(others, event_ids)
        gaps = step_gaps(with_producers(timelines, produced), result.started)
        _say("latency, median per saga step (X@service: recorded by its producer):")
        for pair, seconds in gaps:
            _say(f"  {pair:<56} {seconds * 1000:7.1f} ms")
        return result


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _customers(
    client: ShopClient, admin_email: str, admin_password: str
) -> list[dict[str, str]]:
    """Register and log in the customers; top up the stock of every product ordered."""
    admin = await client.login(admin_email, admin_password)
    tag = uuid.uuid4().hex[:8]
    # As many customers as the mix's orders name.
    emails = [f"customer{i}.{tag}@bench.shop" for i in range(_mix().customers)]
    for i, email in enumerate(emails):
        await client.register(email, _PASSWORD, f"Customer {i}")
    auth = [await client.login(email, _PASSWORD) for email in emails]
    _, mix = _orders()
    # Not the scarce product of the out-of-stock orders: those must stay out of stock.
    skus = {sku for order in mix if order.kind != Kind.OUT_OF_STOCK for sku, _ in order.lines}
    for sku in sorted(skus):
        answer = await client.http.post(
            f"{client.urls['inventory']}/products/{sku}/stock",
            json={"quantity": _STOCK},
            headers=admin,
        )
        if answer.status_code != 200:
            raise BenchError(
                f"adding stock to {sku}: HTTP {answer.status_code} {answer.text[:200]}"
            )
    return auth


# -- rows -----------------------------------------------------------------------------------


def _instances(count: int) -> str:
    return f"{count} instance{'s' * (count > 1)}"


def _throughput(what: str, instances: int, phase: _Phase) -> list[Row]:
    rate = phase.result.rate
    return [
        Row(
            SECTION,
            f"{what}, {_instances(instances)}",
            f"closed loop, {phase.customers} customers",
            rate,
            "orders/s",
            baseline=f"{TARGET_RATE:,.0f} orders/s",
            ratio=rate / TARGET_RATE,
            target=1.0,
        )
    ]


def _latency(result: LoopResult, rate: float, instances: int) -> list[Row]:
    case = f"{HAPPY}, {_instances(instances)}"
    rows = [
        Row(SECTION, case, f"p{p} POST to end at {rate:.0f}/s", result.latency_ms(p / 100), "ms")
        for p in (50, 95)
    ]
    p99 = result.latency_ms(0.99)
    rows.append(
        Row(
            SECTION,
            case,
            f"p99 POST to end at {rate:.0f}/s",
            p99,
            "ms",
            baseline=f"{P99_TARGET_MS:.0f} ms",
            ratio=P99_TARGET_MS / max(p99, 1e-9),
            target=1.0,
        )
    )
    return rows


def _cpu(phase: _Phase) -> list[Row]:
    """CPU milliseconds per order of each process, the busiest first; the client apart."""
    orders = max(1, phase.result.completed)
    shop = {name: s for name, s in phase.cpu_s.items() if name != CLIENT}
    rows = [
        Row(SECTION, f"cpu: {name}", f"CPU per order, {HAPPY}", 1000 * s / orders, "ms")
        for name, s in sorted(shop.items(), key=lambda item: -item[1])
    ]
    rows.append(
        Row(
            SECTION,
            "cpu: platform total",
            f"CPU per order, {HAPPY}",
            1000 * sum(shop.values()) / orders,
            "ms",
        )
    )
    client = phase.cpu_s.get(CLIENT, 0.0)
    rows.append(
        Row(SECTION, f"cpu: {CLIENT}", f"CPU per order, {HAPPY}", 1000 * client / orders, "ms")
    )
    return rows


def _limit(
    rates: Mapping[int, float], idle: tuple[CommitMarks, CommitMarks], phase: _Phase
) -> list[Row]:
    best = max(rates.values())
    connections = max(rates, key=lambda count: rates[count])
    first, last = phase.marks
    cost = per_order(
        first, last, orders=max(1, phase.result.completed), idle=idle, own_commits=phase.own_commits
    )
    gross = per_order(first, last, orders=max(1, phase.result.completed))
    _say(
        f"commits per order: {cost.commits:.1f} net of the idle background and the bench's"
        f" {phase.own_commits} queries ({gross.commits:.1f} gross); writing transactions"
        f" {cost.writes:.1f} net ({gross.writes:.1f} gross)"
    )
    limit = best / cost.commits if cost.commits > 0 else float("inf")
    share = phase.result.rate / limit
    case = f"{HAPPY}, {_instances(1)}"
    return [
        Row(SECTION, POSTGRES, f"single-row commits, best ({connections} conn)", best, "commits/s"),
        Row(SECTION, case, "commits per order", cost.commits, "commits"),
        Row(SECTION, case, "writing transactions per order", cost.writes, "xids"),
        Row(SECTION, "commit limit", "orders/s the commits allow", limit, "orders/s"),
        Row(
            SECTION,
            case,
            "share of the commit limit",
            share,
            "x",
            baseline="commit limit",
            ratio=share,
            target=LIMIT_TARGET,
        ),
    ]


# -- where the time goes ----------------------------------------------------------------------


def _report(phase: _Phase, seconds: float) -> None:
    result = phase.result
    total = sum(phase.cpu_s.values())
    statuses = _statuses(result)
    _say(
        f"{phase.what}, {phase.customers} customers: {result.rate:.1f} orders/s ({statuses}),"
        f" p50 {result.latency_ms(0.5):.0f} ms; CPU {total / seconds:.2f} cores busy"
        f" of {_cores()}"
    )
    orders = max(1, result.completed)
    for name, used in sorted(phase.cpu_s.items(), key=lambda item: -item[1]):
        if used > 0:
            _say(
                f"  {name:<16} {100 * used / seconds:5.1f}% of a core"
                f"  {1000 * used / orders:6.2f} ms/order"
            )


def _statuses(result: LoopResult) -> str:
    return ", ".join(f"{n} {status.lower()}" for status, n in sorted(result.statuses.items()))


def _cores() -> int:
    return os.cpu_count() or 1


def _replicas(replicas: Mapping[str, int]) -> str:
    shown = [f"{name} x{count}" for name, count in replicas.items() if count > 1]
    return ", ".join(shown) if shown else "one instance of each service"


def _say(line: str) -> None:
    print(f"bench: saga: {line}", file=sys.stderr, flush=True)
