"""``evp chaos``: boot the platform as ``evp up`` does, shop at a steady rate, inject faults.

The platform runs in a fresh data directory with the demo's environment (a short payment
timeout and a slow approval after it, so ``tok_slow`` orders time out and are refunded
within the run). Customers register and log in, then the :mod:`evp.demo.mix` of orders
arrives at ``rate`` per second while the :class:`~evp.chaos.schedule.Schedule` kills and
pauses processes. Then the run waits (up to ``bound_s``) for quiescence, audits the
stores and the topics, and checks every invariant.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from evp.chaos.audit import POISON_KEY, gather
from evp.chaos.databases import Databases
from evp.chaos.injector import Injected, Injector
from evp.chaos.invariants import check_all
from evp.chaos.load import Arrival, Load, Placed, arrivals
from evp.chaos.quiescence import Pulse, Quiet, pulse, subscriptions, wait_quiet
from evp.chaos.report import RELAY_NOTE, ChaosReport
from evp.chaos.schedule import Schedule, plan_faults, processes
from evp.chaos.topics import GroupLag
from evp.demo.client import ShopClient
from evp.demo.mix import BURST_SKU, plan
from evp.demo.run import environment
from evp.demo.scenario import Progress
from evp.events import OrderPlaced
from evp.messaging.topics import TopicNames
from evp.service.service import installed_services
from evp.up import SERVICES, Plan, RunningPlatform, platform

__all__ = ["ChaosOptions", "run_chaos"]

_PASSWORD = "chaos correct horse battery"


@dataclass(frozen=True)
class ChaosOptions:
    """``evp chaos``'s options."""

    orders: int = 500
    rate: float = 4.0
    """Orders started per second (open loop)."""
    seed: int = 1
    faults: int | None = None
    """SIGKILLs to inject; ``None``: one per process (every process once)."""
    pause: bool = False
    pause_s: float = 40.0
    replicas: Mapping[str, int] = field(default_factory=dict)
    poison: int = 0
    bound_s: float = 120.0
    concurrency: int = 16
    json: Path | None = None
    keep: bool = False
    schemas: Path = Path("schemas")


def run_chaos(options: ChaosOptions) -> int:
    """Run it; 0 only when every invariant held. The data directory is kept on a failure
    (or with ``keep``) for its logs."""
    # pgserver warns that XDG_RUNTIME_DIR is unset on CI machines; nothing to act on here.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    data_dir = Path(tempfile.mkdtemp(prefix="evp-chaos-"))
    report = asyncio.run(_chaos(options, data_dir))
    if report.passed and not options.keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    else:
        report.data_dir = str(data_dir)
    print(report.text(), flush=True)
    if options.json is not None:
        report.write(options.json)
        print(f"report written to {options.json}", flush=True)
    return 0 if report.passed else 1


async def _chaos(options: ChaosOptions, data_dir: Path) -> ChaosReport:
    env = environment(data_dir)
    plan_ = Plan.from_env(env, replicas=options.replicas, schemas=options.schemas)
    mix = plan(options.orders, options.seed)
    due = arrivals(mix, options.rate, options.seed)
    length = due[-1].at
    targets = processes(SERVICES, dict(plan_.replicas))
    schedule = plan_faults(
        targets,
        kills=len(targets) if options.faults is None else options.faults,
        window=(0.1 * length, 0.9 * length),
        seed=options.seed,
        pause=options.pause,
        pause_s=options.pause_s,
    )
    progress = Progress(len(due))
    started_at = time.monotonic()
    customers = [f"customer{i}.{options.seed}@chaos.shop" for i in range(mix.customers)]
    print(f"evp chaos: booting the platform in {data_dir} (as `evp up` does)", flush=True)
    async with (
        platform(plan_, environ=env, report=lambda line: progress.say(f"  {line}")) as up,
        Databases.open(up.state.databases) as databases,
    ):
        progress.say(f"evp chaos: {RELAY_NOTE}")
        progress.say(
            f"evp chaos: {len(due)} orders at {options.rate:g}/s over {length:.0f} s, "
            f"seed {options.seed}; {len(schedule.faults)} fault(s) planned:"
        )
        for fault in schedule.faults:
            hold = f" for {fault.hold_s:.0f} s" if fault.hold_s else ""
            progress.say(f"  at {fault.at:6.1f} s: {fault.kind.value} {fault.process.name}{hold}")
        services = installed_services(SERVICES)
        client = ShopClient(up.state.services)
        try:
            auth, admin = await _customers(client, up, customers)
            await client.add_product(BURST_SKU, mix.burst_stock, admin)
            if options.poison:
                await asyncio.to_thread(_poison, up, options.poison)
            load = Load(client, auth, concurrency=options.concurrency)
            placed, injected = await _drive(
                load,
                Injector(up, progress.say),
                due,
                schedule,
                databases=databases,
                progress=progress,
            )
        finally:
            await client.aclose()
        progress.say(
            f"evp chaos: load and faults over; waiting up to {options.bound_s:.0f} s for quiescence"
        )
        groups = GroupLag(up.state.kafka or "", subscriptions(services, plan_.topic_prefix))
        projections = {n: [p.name for p in s.store_projections] for n, s in services.items()}
        try:
            quiet = await wait_quiet(
                lambda: pulse(databases, projections, groups),
                timeout=options.bound_s,
                on_pulse=_Waiting(progress.say),
            )
        finally:
            await asyncio.to_thread(groups.close)
        progress.say(f"evp chaos: auditing the stores and the topics ({_quiet(quiet)})")
        audit = await gather(
            databases,
            services,
            placed,
            customers=customers,
            kafka=up.state.kafka or "",
            registry=up.state.registry or "",
            prefix=plan_.topic_prefix,
            maildir=plan_.data_dir / "smtp",
            bound_s=options.bound_s,
            poisoned=options.poison,
        )
        progress.say("evp chaos: stopping the platform")
    return ChaosReport(
        seed=options.seed,
        rate=options.rate,
        concurrency=options.concurrency,
        replicas={k: v for k, v in plan_.replicas.items() if v > 1},
        schedule=schedule,
        injected=injected,
        placed=placed,
        audit=audit,
        quiet=quiet,
        verdicts=check_all(audit, injected, quiet),
        duration_s=time.monotonic() - started_at,
    )


async def _drive(
    load: Load,
    injector: Injector,
    due: list[Arrival],
    schedule: Schedule,
    *,
    databases: Databases,
    progress: Progress,
) -> tuple[list[Placed], list[Injected]]:
    """The load and the faults together, from now; the progress line kept current."""
    started = time.monotonic()
    watching = asyncio.create_task(_watch(databases, load, progress))
    try:
        placed, injected = await asyncio.gather(
            load.run(due, started), injector.run(schedule, started)
        )
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
        progress.done()
    return placed, injected


async def _customers(
    client: ShopClient, up: RunningPlatform, emails: list[str]
) -> tuple[list[dict[str, str]], dict[str, str]]:
    """Register and log in every customer (before any fault); their headers, the admin's."""
    admin = await client.login(up.admin.email, up.admin.password)
    for i, email in enumerate(emails):
        await client.register(email, _PASSWORD, f"Customer {i}")
    auth = [await client.login(email, _PASSWORD) for email in emails]
    return auth, admin


def _poison(up: RunningPlatform, count: int) -> None:
    """``count`` messages that are no Avro frame, on the topic of OrderPlaced; blocking."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": up.state.kafka or ""})
    topic = TopicNames(up.plan.topic_prefix).of(OrderPlaced)
    for i in range(count):
        producer.produce(topic, key=f"{POISON_KEY}{i}".encode(), value=b"chaos: not an Avro frame")
    producer.flush(10)


async def _watch(databases: Databases, load: Load, progress: Progress) -> None:
    """Keep the progress line current from orders' read model, every second."""
    while True:
        rows = await databases.fetch(
            "orders", "SELECT status, count(*) FROM orders_by_user GROUP BY status"
        )
        counts: Counter[str] = Counter({str(status): int(n) for status, n in rows})
        counts["placed"] = sum(1 for p in load.placed if p.order_id)
        progress.update(counts)
        await asyncio.sleep(1.0)


def _quiet(quiet: Quiet) -> str:
    waited = quiet.waited_s
    return f"quiet after {waited:.0f} s" if quiet.reached else f"NOT quiet after {waited:.0f} s"


class _Waiting:
    """Says what the platform is still busy with, every ``every`` seconds while waiting."""

    def __init__(self, say: Callable[[str], None], every: float = 10.0) -> None:
        self.say = say
        self.every = every
        self._next = time.monotonic() + every

    def __call__(self, current: Pulse) -> None:
        if time.monotonic() < self._next:
            return
        self._next += self.every
        busy = {name: n for name, n in current.document().items() if n}
        shown = ", ".join(f"{name} {n}" for name, n in busy.items()) or "settling"
        self.say(f"evp chaos: not quiet yet: {shown}")
