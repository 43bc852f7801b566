"""The demo's scenario: customers shop over HTTP while a service is SIGKILLed and restarted.

Customers register and log in, browse ``GET /products``, and place the :mod:`evp.demo.mix`
one after another; halfway, the chaos service's process is killed with SIGKILL (the
supervisor restarts it) and a burst of concurrent orders competes for a product with
little stock. Then the client waits (bounded) for every order to end, for slow payments
to settle and for the mail to arrive, and gathers the :class:`Observation`.
"""

from __future__ import annotations

import asyncio
import mailbox
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evp.demo.client import ShopClient, ShopError, seen
from evp.demo.invariants import TERMINAL, Observation, OrderSeen
from evp.demo.mix import BURST_SKU, Mix, PlannedOrder
from evp.up import RunningPlatform

__all__ = ["Chaos", "Outcome", "Progress", "run_scenario"]

_PASSWORD = "demo correct horse battery"
_POLL_S = 0.25
_SETTLE_S = 30.0
"""How long slow payments, mail and analytics get to catch up once every order ended."""


@dataclass
class Chaos:
    """The service killed mid-run, and whether (and how fast) it came back."""

    service: str
    old_pid: int | None = None
    new_pid: int | None = None
    down_s: float | None = None

    def document(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "service": self.service,
            "signal": "SIGKILL",
            "old_pid": self.old_pid,
            "new_pid": self.new_pid,
            "restarted": self.new_pid is not None,
            "down_s": None if self.down_s is None else round(self.down_s, 2),
        }


@dataclass
class Outcome:
    """What the scenario saw: the observation, latencies, events, and the chaos."""

    observation: Observation
    latencies: list[float]
    events: dict[str, int]
    chaos: Chaos
    cancels_refused: int = 0
    errors: list[str] = field(default_factory=list)


class Progress:
    """Counts of orders by state, as one updating line on a terminal, else periodic lines."""

    def __init__(self, total: int, *, out: Any = None, every: float = 2.0) -> None:
        self.total = total
        self.out = out or sys.stdout
        self.tty = bool(getattr(self.out, "isatty", lambda: False)())
        self.every = every
        self.counts: Counter[str] = Counter()
        self._last = 0.0
        self._line = ""

    def update(self, counts: Counter[str], *, force: bool = False) -> None:
        """Show ``counts`` (``placed``, ``PENDING``, ``CONFIRMED``, ``CANCELLED``)."""
        self.counts = counts
        bar_width = 24
        ended = counts["CONFIRMED"] + counts["CANCELLED"]
        filled = bar_width * ended // max(1, self.total)
        line = (
            f"[{'#' * filled}{'.' * (bar_width - filled)}] placed {counts['placed']}/{self.total}"
            f"  pending {counts['PENDING']}  confirmed {counts['CONFIRMED']}"
            f"  cancelled {counts['CANCELLED']}"
        )
        now = time.monotonic()
        if self.tty:
            if line != self._line:
                self.out.write("\r" + line)
                self.out.flush()
        elif force or (line != self._line and now - self._last >= self.every):
            self.out.write(line + "\n")
            self.out.flush()
            self._last = now
        self._line = line

    def say(self, text: str) -> None:
        """A line of its own, without breaking the updating one."""
        self.out.write(("\r\x1b[K" if self.tty else "") + text + "\n")
        if self.tty and self._line:
            self.out.write(self._line)
        self.out.flush()

    def done(self) -> None:
        """End the updating line."""
        if self.tty:
            self.out.write("\n")
            self.out.flush()


@dataclass
class _Placed:
    order_id: str
    planned: PlannedOrder
    started: float
    status: str = "PENDING"


class _Run:
    def __init__(
        self, running: RunningPlatform, mix: Mix, chaos: Chaos, progress: Progress, seed: int
    ) -> None:
        self.running = running
        self.mix = mix
        self.chaos = chaos
        self.progress = progress
        self.client = ShopClient(running.state.services)
        self.emails = [f"customer{i}.{seed}@demo.shop" for i in range(mix.customers)]
        self.auth: list[dict[str, str]] = []
        self.admin: dict[str, str] = {}
        self.placed: list[_Placed] = []
        self.cancels_refused = 0
        self.errors: list[str] = []

    def counts(self) -> Counter[str]:
        counts = Counter(p.status for p in self.placed)
        counts["placed"] = len(self.placed)
        return counts

    def show(self, *, force: bool = False) -> None:
        self.progress.update(self.counts(), force=force)

    async def customers(self) -> None:
        admin = self.running.admin
        self.admin = await self.client.login(admin.email, admin.password)
        for i, email in enumerate(self.emails):
            await self.client.register(email, _PASSWORD, f"Customer {i}")
        self.auth = list(
            await asyncio.gather(*(self.client.login(e, _PASSWORD) for e in self.emails))
        )
        self.progress.say(f"customers: {len(self.emails)} registered and logged in")

    async def place(self, planned: PlannedOrder) -> None:
        auth = self.auth[planned.customer]
        started = time.monotonic()
        order_id = await self.client.place(planned, auth)
        self.placed.append(_Placed(order_id, planned, started))
        if planned.kind == "customer-cancel" and await self.client.cancel(order_id, auth) == 409:
            self.cancels_refused += 1
        self.show()

    async def kill(self) -> None:
        """SIGKILL the chaos service's process; return once the supervisor restarted it."""
        (child,) = self.running.instances(self.chaos.service)[:1]
        self.chaos.old_pid = child.pid
        if child.pid is None:
            return
        restarts = child.restarts
        os.kill(child.pid, signal.SIGKILL)
        killed = time.monotonic()
        self.progress.say(f"chaos: SIGKILL {self.chaos.service} (pid {child.pid})")
        try:
            async with asyncio.timeout(60):
                while child.restarts == restarts or not child.running:
                    await asyncio.sleep(0.1)
                await self.client.ready(self.chaos.service)
        except (TimeoutError, ShopError):
            self.progress.say(f"chaos: {self.chaos.service} did not come back in 60 s")
            return
        self.chaos.new_pid = child.pid
        self.chaos.down_s = time.monotonic() - killed
        self.progress.say(
            f"chaos: {self.chaos.service} back as pid {child.pid} after {self.chaos.down_s:.1f} s"
        )

    async def shop(self) -> None:
        steady = self.mix.steady
        half = len(steady) // 2
        # A few at a time: enough concurrency to interleave sagas, not to flood 2 cores.
        gate = asyncio.Semaphore(4)

        async def one(planned: PlannedOrder) -> None:
            async with gate:
                await self.place(planned)

        await asyncio.gather(*(one(p) for p in steady[:half]))
        killing = asyncio.create_task(self.kill())
        self.progress.say(
            f"burst: {len(self.mix.burst)} concurrent orders for the "
            f"{self.mix.burst_stock} {BURST_SKU} in stock"
        )
        await asyncio.gather(*(self.place(p) for p in self.mix.burst))
        await asyncio.gather(*(one(p) for p in steady[half:]))
        await killing

    async def wait_terminal(self, timeout: float) -> dict[str, dict[str, Any]]:
        """Poll until every order ended (or ``timeout``); each order's last answer."""
        last: dict[str, dict[str, Any]] = {}
        gate = asyncio.Semaphore(8)

        async def look(p: _Placed) -> None:
            async with gate:
                body = await self.client.order(p.order_id, self.auth[p.planned.customer])
            last[p.order_id] = body
            p.status = str(body.get("status"))
            if p.status in TERMINAL:
                self.latencies[p.order_id] = _saga_seconds(body) or time.monotonic() - p.started

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pending = [p for p in self.placed if p.status not in TERMINAL]
            if not pending:
                break
            await asyncio.gather(*(look(p) for p in pending))
            self.show()
            await asyncio.sleep(_POLL_S)
        self.show(force=True)
        # The terminal ones once more: their timelines are complete now.
        await asyncio.gather(*(look(p) for p in self.placed))
        return last

    latencies: dict[str, float]

    async def settle(self, maildir: Path) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """Wait for slow payments to be refunded, the mail and analytics to catch up."""
        expected_mail = len(self.emails) + sum(1 for p in self.placed if p.status in TERMINAL)
        deadline = time.monotonic() + _SETTLE_S
        summary: dict[str, Any] = {}
        mail: list[tuple[str, str]] = []
        while time.monotonic() < deadline:
            payments = await asyncio.gather(
                *(self.client.payment(p.order_id, self.admin) for p in self.placed)
            )
            pending = sum(1 for pay in payments if pay is not None and pay.status == "PENDING")
            charged = sum(
                1 for pay in payments if pay is not None and pay.status in {"PROCESSED", "REFUNDED"}
            )
            mail = _mail(maildir)
            ours = [m for m in mail if not m[0].lower().startswith(self.running.admin.email)]
            summary = await self.client.summary(self.admin)
            placed = int(summary.get("orders", {}).get("placed", 0))
            ended = summary.get("orders", {})
            in_analytics = int(ended.get("confirmed", 0)) + int(ended.get("cancelled", 0))
            # Analytics reads the payments topic too: it must have seen every charge before
            # its count can stand for "no order charged twice".
            seen_charges = _events(summary).get("PaymentProcessed", 0)
            if (
                not pending
                and len(ours) >= expected_mail
                and placed >= len(self.placed)
                and in_analytics >= expected_mail - len(self.emails)
                and seen_charges >= charged
            ):
                break
            await asyncio.sleep(0.5)
        return summary, mail


async def run_scenario(
    running: RunningPlatform,
    mix: Mix,
    *,
    seed: int,
    chaos_service: str = "inventory",
    timeout: float = 120.0,
    dead_letters: Callable[[], Mapping[str, int]],
    progress: Progress | None = None,
) -> Outcome:
    """Shop as ``mix`` says against ``running``; what was seen, for the report."""
    chaos = Chaos(chaos_service)
    progress = progress or Progress(mix.size)
    run = _Run(running, mix, chaos, progress, seed)
    run.latencies = {}
    try:
        await run.customers()
        await run.client.add_product(BURST_SKU, mix.burst_stock, run.admin)
        stock_added = await run.client.products()
        progress.say(f"browse: GET /products lists {len(stock_added)} products")
        await run.shop()
        bodies = await run.wait_terminal(timeout)
        progress.done()
        summary, mail = await run.settle(running.plan.data_dir / "smtp")
        available = await run.client.products()
        payments = await asyncio.gather(
            *(run.client.payment(p.order_id, run.admin) for p in run.placed)
        )
    finally:
        await run.client.aclose()
    orders: list[OrderSeen] = [
        seen(p.order_id, p.planned, run.emails[p.planned.customer], bodies.get(p.order_id, {}))
        for p in run.placed
    ]
    events = _events(summary)
    observation = Observation(
        orders=orders,
        stock_added=stock_added,
        available=available,
        payments={p.order_id: pay for p, pay in zip(run.placed, payments, strict=True) if pay},
        emails=mail,
        customers=run.emails,
        dead_letters=dict(await asyncio.to_thread(dead_letters)),
        charge_events=events.get("PaymentProcessed") if events else None,
    )
    return Outcome(
        observation,
        [run.latencies[o.order_id] for o in orders if o.order_id in run.latencies],
        events,
        chaos,
        cancels_refused=run.cancels_refused,
        errors=run.errors,
    )


def _saga_seconds(body: dict[str, Any]) -> float | None:
    """Seconds from OrderPlaced to the terminal event, by the events' own times."""
    from datetime import datetime

    times = {e["event_type"]: e["at"] for e in body.get("timeline", [])}
    end = times.get(TERMINAL.get(str(body.get("status")), ""))
    start = times.get("OrderPlaced")
    if not start or not end:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def _mail(maildir: Path) -> list[tuple[str, str]]:
    if not (maildir / "new").exists():
        return []
    box = mailbox.Maildir(maildir, create=False)
    return [(str(m.get("To", "")), str(m.get("Subject", ""))) for m in box]


def _events(summary: Mapping[str, Any]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for row in summary.get("events_per_minute", []):
        counts[str(row["event_type"]).rsplit(".", 1)[-1]] += int(row["count"])
    return dict(sorted(counts.items()))
