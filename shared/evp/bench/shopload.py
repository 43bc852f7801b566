"""Orders driven through the shop's saga over HTTP, and the moment each one ends.

Two ways to load the shop, both as real customers do (``POST /orders`` with a bearer
token, :class:`~evp.demo.client.ShopClient`):

* closed loop (:func:`closed_loop`): ``concurrency`` customers, each placing its next order
  as soon as the previous one reached its terminal state -- the rate at saturation;
* open loop (:func:`open_loop`): orders placed on a fixed schedule (the chaos run's
  :class:`~evp.chaos.load.Load`), whatever the platform does with them, so that slow
  answers cannot hide queueing -- the latency at a given offered rate.

When an order ends is not asked of the orders service order by order (at a hundred orders a
second the polling would itself be load): a :class:`TerminalWatch` reads the orders
database in one query per tick for every order still open, and takes the terminal event's
``recorded_at`` (the database's clock at the append) as the end. Start and end are both
wall-clock times of this machine, so a latency is exact whatever the tick.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import itertools
import math
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from evp.bench.errors import BenchError
from evp.chaos.load import Arrival, Load, Placed, arrivals
from evp.demo.client import ShopClient
from evp.demo.mix import Mix, PlannedOrder
from evp.demo.report import percentile as nearest_rank
from evp.events import OrderCancelled, OrderConfirmed

__all__ = [
    "Ended",
    "LoopResult",
    "Step",
    "TerminalWatch",
    "closed_loop",
    "open_loop",
    "percentile",
    "recorded_elsewhere",
    "schedule",
    "step_gaps",
    "with_producers",
]

_TERMINAL = {OrderConfirmed.FULL_NAME: "CONFIRMED", OrderCancelled.FULL_NAME: "CANCELLED"}
_TIMELINE_QUERY = (
    "SELECT stream_id, event_type, recorded_at, event_id FROM evp_events"
    " WHERE stream_id = ANY($1::text[]) ORDER BY stream_id, stream_version"
)
_RECORDED_QUERY = "SELECT event_id, recorded_at FROM evp_events WHERE event_id = ANY($1::uuid[])"
_ENDED_QUERY = (
    "SELECT stream_id, event_type, recorded_at FROM evp_events"
    " WHERE stream_id = ANY($1::text[]) AND event_type = ANY($2::text[])"
)
_STREAM_PREFIX = "order-"  # shop.orders.repository.stream_of
_GIVE_UP_S = 120.0
"""How long an order may stay open before the run counts it as lost."""


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """The nearest-rank ``fraction`` percentile of the ascending ``ordered``; 0 if empty."""
    found = nearest_rank(list(ordered), fraction * 100)
    return 0.0 if found is None else float(found)


def schedule(
    orders: Sequence[PlannedOrder], rate: float, duration_s: float, seed: int
) -> list[Arrival]:
    """Open-loop arrivals: ``orders`` cycled to fill ``duration_s`` at ``rate`` per second.

    The times and idempotency keys are the chaos run's (:func:`evp.chaos.load.arrivals`):
    order ``i`` is due ``i / rate`` seconds in.
    """
    if rate <= 0 or not orders:
        raise ValueError("an open loop needs a positive rate and some orders")
    count = max(1, math.ceil(rate * duration_s))
    cycled = tuple(orders[i % len(orders)] for i in range(count))
    customers = 1 + max(order.customer for order in orders)
    return arrivals(Mix(cycled, (), burst_stock=0, customers=customers), rate, seed)


@dataclasses.dataclass(frozen=True, slots=True)
class Step:
    """An event of an order's saga: its type's short name, its id, when it was recorded."""

    name: str
    event_id: uuid.UUID
    at: float


@dataclasses.dataclass(frozen=True, slots=True)
class Ended:
    """An order's terminal status and when it was reached (seconds since the epoch)."""

    status: str
    at: float


class TerminalWatch:
    """Tells when orders end, by reading the orders service's store in batches.

    ``connection`` is an asyncpg connection to the orders database; every ``tick_s`` one
    query asks for the terminal events of all the orders still open. ``queries`` counts
    them (each is a transaction of that database, which commit counts must leave out).
    """

    def __init__(self, connection: Any, *, tick_s: float = 0.05) -> None:
        self._connection = connection
        self._tick_s = tick_s
        self._open: dict[str, asyncio.Future[Ended]] = {}
        self._lock = asyncio.Lock()  # asyncpg: one query at a time per connection
        self.queries = 0

    def track(self, order_id: str) -> asyncio.Future[Ended]:
        """A future set once order ``order_id`` has ended."""
        future: asyncio.Future[Ended] = asyncio.get_running_loop().create_future()
        self._open[_STREAM_PREFIX + order_id] = future
        return future

    async def run(self) -> None:
        """Look for ended orders until cancelled."""
        while True:
            await asyncio.sleep(self._tick_s)
            if self._open:
                await self._look()

    async def timelines(self, order_ids: Sequence[str]) -> dict[str, list[Step]]:
        """Each order's events as the orders service recorded them, in order."""
        streams = [_STREAM_PREFIX + order_id for order_id in order_ids]
        async with self._lock:
            rows = await self._connection.fetch(_TIMELINE_QUERY, streams)
            self.queries += 1
        found: dict[str, list[Step]] = {}
        for stream, event_type, recorded_at, event_id in rows:
            step = Step(event_type.rsplit(".", 1)[-1], event_id, _epoch(recorded_at))
            found.setdefault(stream.removeprefix(_STREAM_PREFIX), []).append(step)
        return found

    async def _look(self) -> None:
        async with self._lock:
            rows = await self._connection.fetch(_ENDED_QUERY, list(self._open), list(_TERMINAL))
            self.queries += 1
        ends: dict[str, Ended] = {}
        for stream, event_type, recorded_at in rows:
            at = _epoch(recorded_at)
            # Only the first terminal event counts (as orders' own read model decides).
            if stream not in ends or at < ends[stream].at:
                ends[stream] = Ended(_TERMINAL[event_type], at)
        for stream, ended in ends.items():
            future = self._open.pop(stream, None)
            if future is not None and not future.done():
                future.set_result(ended)


@dataclasses.dataclass(frozen=True, slots=True)
class LoopResult:
    """The orders that ended inside a timed window: how many, their latencies, their ends."""

    completed: int
    seconds: float
    latencies_s: tuple[float, ...]
    statuses: Mapping[str, int]
    started: Mapping[str, float]
    """When each order counted was placed (its due time, in an open loop), by order id."""
    late_s: float = 0.0
    """Open loop: how late the latest order was started after its due time."""

    @property
    def rate(self) -> float:
        """Orders ended per second of the window."""
        return self.completed / self.seconds if self.seconds > 0 else 0.0

    def latency_ms(self, fraction: float) -> float:
        """A percentile of POST-to-terminal latency, in milliseconds."""
        return 1000.0 * percentile(sorted(self.latencies_s), fraction)


_Done = tuple[str, float, Ended]
"""An order's id, when it was placed and how it ended."""


def _result(
    done: Sequence[_Done], window: tuple[float, float], *, late_s: float = 0.0
) -> LoopResult:
    """The orders of ``done`` that ended inside ``window`` (epoch seconds)."""
    opened, closed = window
    inside = [(order, start, end) for order, start, end in done if opened <= end.at <= closed]
    statuses: dict[str, int] = {}
    for _, _, end in inside:
        statuses[end.status] = statuses.get(end.status, 0) + 1
    return LoopResult(
        completed=len(inside),
        seconds=closed - opened,
        latencies_s=tuple(end.at - start for _, start, end in inside),
        statuses=statuses,
        started={order: start for order, start, _ in inside},
        late_s=late_s,
    )


async def recorded_elsewhere(
    urls: Mapping[str, str], event_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, float]]:
    """Which of ``event_ids`` the services at ``urls`` (name: database URL) recorded in
    their own stores, and when; of several, the first: the event's producer (a consumer
    that keeps what it reads, such as analytics, records it later)."""
    found: dict[uuid.UUID, tuple[str, float]] = {}
    for service, url in urls.items():
        connection = await asyncpg.connect(url)
        try:
            rows = await connection.fetch(_RECORDED_QUERY, list(event_ids))
        finally:
            await connection.close()
        for event_id, recorded_at in rows:
            at = _epoch(recorded_at)
            if event_id not in found or at < found[event_id][1]:
                found[event_id] = (service, at)
    return found


def with_producers(
    timelines: Mapping[str, Sequence[Step]], produced: Mapping[uuid.UUID, tuple[str, float]]
) -> dict[str, list[tuple[str, float]]]:
    """Each timeline as (name, time) pairs; an event another service recorded before the
    orders service did is preceded by that record (``"StockHeld@inventory"``), which splits
    each hop of the saga into its way out and its way back."""
    found: dict[str, list[tuple[str, float]]] = {}
    for order_id, steps in timelines.items():
        pairs = found[order_id] = []
        for step in steps:
            producer = produced.get(step.event_id)
            if producer is not None and producer[1] < step.at:
                pairs.append((f"{step.name}@{producer[0]}", producer[1]))
            pairs.append((step.name, step.at))
    return found


def step_gaps(
    timelines: Mapping[str, Sequence[tuple[str, float]]], started: Mapping[str, float]
) -> list[tuple[str, float]]:
    """The median time between consecutive events of the orders' sagas, first to last.

    Each pair of event types that follow one another (``"OrderPlaced -> X"``) gets the
    median of its gaps in seconds; placement (``"POST -> OrderPlaced"``) comes first. Pairs
    are listed in the order they first appear.
    """
    gaps: dict[str, list[float]] = {}
    for order_id, events in timelines.items():
        steps = [("POST", started[order_id]), *events] if order_id in started else list(events)
        for (before, at), (after, then) in itertools.pairwise(steps):
            gaps.setdefault(f"{before} -> {after}", []).append(then - at)
    return [(pair, percentile(sorted(each), 0.5)) for pair, each in gaps.items()]


async def closed_loop(
    client: ShopClient,
    auth: Sequence[Mapping[str, str]],
    orders: Sequence[PlannedOrder],
    watch: TerminalWatch,
    *,
    concurrency: int,
    warmup_s: float,
    duration_s: float,
) -> LoopResult:
    """``concurrency`` customers placing ``orders`` (cycled) back to back; the orders that
    ended in the ``duration_s`` after ``warmup_s``.

    Orders are placed as the chaos run places them (:class:`~evp.chaos.load.Load`: an
    idempotency key each, so a request whose answer was lost is sent again safely, and a
    customer cancel right after placing). Every customer stops once the window closes and
    its last order ended, so the platform is quiet (bar refunds) when this returns.
    """
    opened = time.time() + warmup_s
    closed = opened + duration_s
    done: list[_Done] = []
    run = uuid.uuid4().hex[:8]

    async def customer(first: int) -> None:
        load = Load(client, auth, concurrency=1)
        index = first
        while time.time() < closed:
            order = orders[index % len(orders)]
            arrival = Arrival(0.0, order, f"bench-{run}-{index}")
            index += concurrency
            started = time.time()
            placed = (await load.run([arrival], time.monotonic()))[-1]
            if placed.order_id is None:
                raise BenchError(f"an order failed: {placed.error}", kind=str(order.kind))
            ended = await _ended(watch.track(placed.order_id), placed.order_id)
            done.append((placed.order_id, started, ended))

    await asyncio.gather(*(customer(i) for i in range(concurrency)))
    return _result(done, (opened, closed))


async def open_loop(
    client: ShopClient,
    auth: Sequence[Mapping[str, str]],
    orders: Sequence[PlannedOrder],
    watch: TerminalWatch,
    *,
    rate: float,
    warmup_s: float,
    duration_s: float,
) -> LoopResult:
    """``orders`` (cycled) placed at ``rate`` per second for ``warmup_s + duration_s``; the
    latencies, from each order's due time to its end, of those due after the warm-up."""
    due = schedule(orders, rate, warmup_s + duration_s, seed=uuid.uuid4().int % 1_000_000)
    ends: dict[int, tuple[str, asyncio.Future[Ended]]] = {}
    index = {arrival.key: i for i, arrival in enumerate(due)}

    def placed(one: Placed) -> None:
        if one.order_id is not None:
            ends[index[one.arrival.key]] = (one.order_id, watch.track(one.order_id))

    # Room for every order at once: the gate must never hold an arrival back.
    load = Load(client, auth, concurrency=len(due), on_placed=placed)
    wall, started = time.time(), time.monotonic()
    outcome = await load.run(due, started)
    failed = [one for one in outcome if one.error is not None]
    if failed:
        raise BenchError(f"{len(failed)} orders failed, first: {failed[0].error}")
    done = [
        (order_id, wall + due[i].at, await _ended(future, order_id))
        for i, (order_id, future) in sorted(ends.items())
        if due[i].at >= warmup_s
    ]
    late = max((one.late_s for one in outcome), default=0.0)
    # Every order due after the warm-up counts, however late it ended.
    whole = _result(done, (-math.inf, math.inf), late_s=late)
    return dataclasses.replace(whole, seconds=duration_s)


async def _ended(future: asyncio.Future[Ended], order_id: str) -> Ended:
    try:
        return await asyncio.wait_for(future, _GIVE_UP_S)
    except TimeoutError as error:
        raise BenchError(
            f"order {order_id} did not end within {_GIVE_UP_S:.0f} s", order_id=order_id
        ) from error


def _epoch(moment: datetime.datetime) -> float:
    return moment.timestamp()
