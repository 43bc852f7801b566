"""The orders a demo run places: how many of each kind, in which order, decided by a seed."""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass

__all__ = ["BURST_SKU", "Kind", "Mix", "PlannedOrder", "plan"]

BURST_SKU = "DEMO-LAST"
"""The product the burst of concurrent orders competes for (added by the demo)."""

_PLENTIFUL = ("BOOK-42", "MUG-01", "TEE-M", "STICKER-8", "PEN-3")
_SCARCE = ("HOODIE-L", 20)
"""A seeded SKU and its stock: an order of more than that is out of stock."""


class Kind(enum.StrEnum):
    """What the client means an order to exercise."""

    PAID = "paid"
    DECLINED = "declined"
    OUT_OF_STOCK = "out-of-stock"
    TIMEOUT = "payment-timeout"
    CANCELLED = "customer-cancel"
    BURST = "last-items-burst"


@dataclass(frozen=True)
class PlannedOrder:
    """One order to place: its kind, lines, payment token, and its customer's index."""

    kind: Kind
    lines: tuple[tuple[str, int], ...]
    token: str
    customer: int


@dataclass(frozen=True)
class Mix:
    """The run's orders: placed one after another (``steady``) and all at once (``burst``)."""

    steady: tuple[PlannedOrder, ...]
    burst: tuple[PlannedOrder, ...]
    burst_stock: int
    customers: int

    @property
    def size(self) -> int:
        """Orders placed in all."""
        return len(self.steady) + len(self.burst)


def plan(orders: int, seed: int) -> Mix:
    """``orders`` orders (at least 6: one of each kind), the same for the same ``seed``."""
    orders = max(orders, 6)
    rng = random.Random(seed)
    customers = max(2, min(5, orders // 8))
    each = max(1, orders // 10)
    burst = max(3, orders // 8)
    paid = max(1, orders - burst - 4 * each)
    kinds = [Kind.PAID] * paid + [
        Kind.DECLINED,
        Kind.OUT_OF_STOCK,
        Kind.TIMEOUT,
        Kind.CANCELLED,
    ] * each
    rng.shuffle(kinds)
    steady = tuple(_order(kind, rng, customers) for kind in kinds)
    burst_orders = tuple(
        PlannedOrder(Kind.BURST, ((BURST_SKU, 1),), "tok_ok", rng.randrange(customers))
        for _ in range(burst)
    )
    return Mix(steady, burst_orders, burst_stock=max(1, burst // 2), customers=customers)


def _order(kind: Kind, rng: random.Random, customers: int) -> PlannedOrder:
    who = rng.randrange(customers)
    some: tuple[tuple[str, int], ...] = ((rng.choice(_PLENTIFUL), rng.randint(1, 2)),)
    match kind:
        case Kind.PAID:
            if rng.random() < 0.3:  # now and then two lines
                other = rng.choice([s for s in _PLENTIFUL if s != some[0][0]])
                some = (*some, (other, 1))
            return PlannedOrder(kind, some, "tok_ok", who)
        case Kind.DECLINED:
            return PlannedOrder(kind, some, "tok_declined", who)
        case Kind.OUT_OF_STOCK:
            sku, stock = _SCARCE
            return PlannedOrder(kind, ((sku, stock + rng.randint(1, 50)),), "tok_ok", who)
        case Kind.TIMEOUT | Kind.CANCELLED:
            # tok_slow keeps the order waiting for its payment, so the cancel that follows
            # placement always finds it PENDING (with tok_ok it could be confirmed first).
            return PlannedOrder(kind, some, "tok_slow", who)
        case Kind.BURST:
            return PlannedOrder(kind, ((BURST_SKU, 1),), "tok_ok", who)
