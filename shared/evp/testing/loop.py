"""Whether the event loop stays free: a ticker that counts how often it got to run."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

__all__ = ["Ticks", "ticking"]


class Ticks:
    """How many times the ticker ran; a blocked loop leaves it behind."""

    def __init__(self) -> None:
        self.count = 0


@contextlib.asynccontextmanager
async def ticking(interval: float = 0.01) -> AsyncIterator[Ticks]:
    """Tick every ``interval`` seconds during the block: code that blocks the loop for a
    second leaves about ``1 / interval`` ticks fewer than it took."""
    ticks = Ticks()

    async def tick() -> None:
        while True:
            await asyncio.sleep(interval)
            ticks.count += 1

    ticker = asyncio.create_task(tick())
    try:
        yield ticks
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
