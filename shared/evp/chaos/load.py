"""The load: orders placed over HTTP at a steady rate, open loop, whatever the faults do.

Order ``i`` of the :mod:`evp.demo.mix` is due ``i / rate`` seconds into the run and is
started then, whether or not the orders before it got their answer (open loop: a slow
platform does not slow the arrivals down); at most ``concurrency`` are in flight, so an
arrival finding them all busy waits, and how late it started is reported. The burst of
the mix (orders for the last items in stock) arrives in the middle, at the same rate.

Every order carries an ``Idempotency-Key`` of its own, so a request whose answer was lost
(the orders process killed or paused mid-request) is sent again and answered with the
order placed the first time, never a second one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import httpx

from evp.demo.client import ShopClient, ShopError
from evp.demo.mix import Kind, Mix, PlannedOrder

__all__ = ["Arrival", "Load", "Placed", "arrivals"]

_GIVE_UP_S = 180.0
"""How long one order keeps being retried while orders does not answer."""
_RETRY_S = 0.5


@dataclass(frozen=True)
class Arrival:
    """An order due ``at`` seconds into the run, with its idempotency key."""

    at: float
    order: PlannedOrder
    key: str


@dataclass
class Placed:
    """An arrival and what became of its request."""

    arrival: Arrival
    late_s: float = 0.0
    """How long after its time it was started (all ``concurrency`` slots busy)."""
    order_id: str | None = None
    attempts: int = 0
    cancel_status: int | None = None
    """A customer cancel's answer: 202 accepted, 409 too late."""
    error: str | None = None
    """Why it was given up on (``None``: placed)."""


def arrivals(mix: Mix, rate: float, seed: int) -> list[Arrival]:
    """Every order of ``mix``, one each ``1 / rate`` seconds, the burst in the middle."""
    half = len(mix.steady) // 2
    orders = [*mix.steady[:half], *mix.burst, *mix.steady[half:]]
    return [
        Arrival(round(i / rate, 3), order, f"chaos-{seed}-{i}") for i, order in enumerate(orders)
    ]


class Load:
    """Places arrivals as the customers whose ``auth`` headers it holds."""

    def __init__(
        self,
        client: ShopClient,
        auth: Sequence[Mapping[str, str]],
        *,
        concurrency: int,
        on_placed: Callable[[Placed], None] = lambda placed: None,
    ) -> None:
        self.client = client
        self.auth = auth
        self.on_placed = on_placed
        self.placed: list[Placed] = []
        self._gate = asyncio.Semaphore(concurrency)

    async def run(self, due: Sequence[Arrival], started: float) -> list[Placed]:
        """Start each arrival at its time (from ``started``, monotonic); return once all ended."""
        tasks = []
        for arrival in due:
            await asyncio.sleep(max(0.0, started + arrival.at - time.monotonic()))
            placed = Placed(arrival)
            self.placed.append(placed)
            tasks.append(asyncio.create_task(self._one(placed, started)))
        await asyncio.gather(*tasks)
        return self.placed

    async def _one(self, placed: Placed, started: float) -> None:
        async with self._gate:
            placed.late_s = max(0.0, time.monotonic() - started - placed.arrival.at)
            try:
                async with asyncio.timeout(_GIVE_UP_S):
                    await self._place(placed)
                    if placed.arrival.order.kind == Kind.CANCELLED and placed.order_id:
                        await self._cancel(placed)
            except (TimeoutError, ShopError) as error:
                placed.error = str(error) or type(error).__name__
        self.on_placed(placed)

    async def _place(self, placed: Placed) -> None:
        arrival = placed.arrival
        auth = self.auth[arrival.order.customer]
        while placed.order_id is None:
            placed.attempts += 1
            try:
                placed.order_id = await self.client.place(
                    arrival.order, auth, idempotency_key=arrival.key
                )
            except (httpx.TransportError, TimeoutError):
                await asyncio.sleep(_RETRY_S)  # down, paused or restarting: the key makes it safe
            except ShopError as error:
                if error.status < 500:
                    raise
                await asyncio.sleep(_RETRY_S)

    async def _cancel(self, placed: Placed) -> None:
        auth = self.auth[placed.arrival.order.customer]
        assert placed.order_id is not None
        while placed.cancel_status is None:
            try:
                placed.cancel_status = await self.client.cancel(placed.order_id, auth)
            except httpx.TransportError:
                # A cancel that did land answers 409 when sent again: the order is no longer
                # PENDING. Either way the order ends once.
                await asyncio.sleep(_RETRY_S)
            except ShopError as error:
                if error.status < 500:
                    raise
                await asyncio.sleep(_RETRY_S)
