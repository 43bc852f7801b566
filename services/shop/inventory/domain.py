"""Stock levels and holds: the pure rules that never oversell (no I/O).

Per SKU, every unit ever added is in exactly one place: *available* to anyone, *held* for
an order waiting for its payment, or *reserved* for an order that paid. So
``added = available + held + reserved`` with none of them negative, whatever the order of
holds, reservations, releases, expiries and additions. :class:`Inventory` is the only way
the numbers change; the handlers load the rows they lock into one, apply the saga's step
and write back what it says.

An order's hold is decided once: a second ``OrderPlaced`` for an order already decided
(held, refused, reserved or released) changes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import uuid
from collections.abc import Iterable

from evp.errors import EvpError
from evp.events import ReservationFailureReason, StockLine, StockShortage

__all__ = [
    "MAX_UNITS",
    "Hold",
    "HoldState",
    "InvalidQuantity",
    "Inventory",
    "InventoryError",
    "Oversold",
    "Refusal",
    "StockLevel",
    "UnknownProduct",
    "requested_lines",
]

MAX_UNITS = 2**31 - 1
"""The most units one SKU can count: the events carry them as 32-bit Avro ints."""


class InventoryError(EvpError):
    """Root of the inventory's own errors."""


class UnknownProduct(InventoryError):
    """No product has this SKU."""

    def __init__(self, sku: str) -> None:
        super().__init__(f"no product {sku}", sku=sku)
        self.sku = sku


class InvalidQuantity(InventoryError):
    """A quantity of stock to add is not positive, or would pass :data:`MAX_UNITS`."""

    def __init__(self, sku: str, quantity: int, reason: str) -> None:
        super().__init__(f"cannot add {quantity} unit(s) of {sku}: {reason}", sku=sku)
        self.sku = sku
        self.quantity = quantity
        self.reason = reason


class Oversold(InventoryError):
    """A step would leave a SKU's available, held or reserved units negative (a bug)."""

    def __init__(self, level: StockLevel) -> None:
        super().__init__(
            f"stock of {level.sku} would go negative",
            sku=level.sku,
            added=level.added,
            held=level.held,
            reserved=level.reserved,
        )
        self.level = level


class HoldState(enum.Enum):
    """Where an order's stock is in the saga."""

    HELD = "held"
    """Set aside for the order until it pays or the hold expires."""
    RESERVED = "reserved"
    """The order paid: the units are its own."""
    RELEASED = "released"
    """Given back (payment failed, cancelled, expired), or nothing was ever held."""
    REFUSED = "refused"
    """Nothing could be held (unknown SKU, too few units): nothing was set aside."""


@dataclasses.dataclass(frozen=True, slots=True)
class StockLevel:
    """The units of one SKU: added in total, and how many are held and reserved."""

    sku: str
    added: int = 0
    held: int = 0
    reserved: int = 0

    @property
    def available(self) -> int:
        """Units anyone may take: neither held nor reserved."""
        return self.added - self.held - self.reserved


@dataclasses.dataclass(frozen=True, slots=True)
class Hold:
    """What one order has of the stock, and in which state."""

    order_id: uuid.UUID
    hold_id: uuid.UUID
    state: HoldState
    lines: tuple[StockLine, ...] = ()
    expires_at: datetime.datetime | None = None

    def expired(self, now: datetime.datetime) -> bool:
        """Whether the hold is still held past its expiry time."""
        return self.state is HoldState.HELD and (
            self.expires_at is not None and self.expires_at < now
        )


@dataclasses.dataclass(frozen=True, slots=True)
class Refusal:
    """Why an order's stock could not be held, and which products were short."""

    reason: ReservationFailureReason
    shortages: tuple[StockShortage, ...] = ()


def requested_lines(lines: Iterable[tuple[str, int]]) -> tuple[StockLine, ...]:
    """``(sku, quantity)`` pairs as one line per SKU (quantities summed), first seen first."""
    totals: dict[str, int] = {}
    for sku, quantity in lines:
        totals[sku] = totals.get(sku, 0) + quantity
    return tuple(StockLine(sku=sku, quantity=quantity) for sku, quantity in totals.items())


class Inventory:
    """Stock levels of some SKUs and the holds of some orders, changed only in ways that keep
    ``added = available + held + reserved`` for every SKU, with none of them negative.

    The handlers build one from the rows they locked; a step may only touch the SKUs of
    the lines it works on, which are the ones loaded.
    """

    def __init__(self, levels: Iterable[StockLevel] = (), holds: Iterable[Hold] = ()) -> None:
        self.levels: dict[str, StockLevel] = {level.sku: level for level in levels}
        self.holds: dict[uuid.UUID, Hold] = {hold.order_id: hold for hold in holds}

    def add_product(self, sku: str) -> StockLevel:
        """A new SKU with no stock (an existing one is left as it is)."""
        return self.levels.setdefault(sku, StockLevel(sku))

    def add_stock(self, sku: str, quantity: int) -> StockLevel:
        """``quantity`` more units of ``sku``, available at once."""
        level = self.levels.get(sku)
        if level is None:
            raise UnknownProduct(sku)
        if quantity <= 0:
            raise InvalidQuantity(sku, quantity, "it must be positive")
        if level.added + quantity > MAX_UNITS:
            raise InvalidQuantity(sku, quantity, f"a SKU counts at most {MAX_UNITS} units")
        return self._set(dataclasses.replace(level, added=level.added + quantity))

    def hold(
        self,
        order_id: uuid.UUID,
        lines: tuple[StockLine, ...],
        *,
        hold_id: uuid.UUID,
        expires_at: datetime.datetime,
    ) -> Hold | Refusal | None:
        """Hold every line for the order, or none of them and say why.

        ``None`` when the order was decided before: nothing changes.
        """
        if order_id in self.holds:
            return None
        refusal = self._refusal(lines)
        if refusal is not None:
            self.holds[order_id] = Hold(order_id, hold_id, HoldState.REFUSED, lines)
            return refusal
        for line in lines:
            level = self.levels[line.sku]
            self._set(dataclasses.replace(level, held=level.held + line.quantity))
        hold = Hold(order_id, hold_id, HoldState.HELD, lines, expires_at)
        self.holds[order_id] = hold
        return hold

    def reserve(self, order_id: uuid.UUID, hold_id: uuid.UUID) -> Hold | None:
        """The order's hold made its own (it paid); ``None`` when there is no such hold any
        more (expired, released, never held), and the order is closed."""
        hold = self.holds.get(order_id)
        if hold is None:
            # Closed, so that an OrderPlaced arriving this late cannot hold stock any more.
            self.holds[order_id] = Hold(order_id, hold_id, HoldState.REFUSED)
            return None
        if hold.hold_id != hold_id:
            return None
        if hold.state is HoldState.RESERVED:
            return hold  # asked again: the same answer, nothing moves
        if hold.state is not HoldState.HELD:
            return None
        for line in hold.lines:
            level = self.levels[line.sku]
            self._set(
                dataclasses.replace(
                    level, held=level.held - line.quantity, reserved=level.reserved + line.quantity
                )
            )
        reserved = dataclasses.replace(hold, state=HoldState.RESERVED)
        self.holds[order_id] = reserved
        return reserved

    def release(self, order_id: uuid.UUID, *, hold_id: uuid.UUID) -> Hold:
        """Give back what the order holds or has reserved; the hold as released, its lines
        those given back (none when nothing was held any more)."""
        hold = self.holds.get(order_id)
        if hold is None:
            # Closed, so that an OrderPlaced arriving this late cannot hold stock any more.
            closed = Hold(order_id, hold_id, HoldState.RELEASED)
            self.holds[order_id] = closed
            return closed
        if hold.state not in (HoldState.HELD, HoldState.RESERVED):
            return dataclasses.replace(hold, lines=())
        for line in hold.lines:
            level = self.levels[line.sku]
            if hold.state is HoldState.HELD:
                level = dataclasses.replace(level, held=level.held - line.quantity)
            else:
                level = dataclasses.replace(level, reserved=level.reserved - line.quantity)
            self._set(level)
        released = dataclasses.replace(hold, state=HoldState.RELEASED)
        self.holds[order_id] = released
        return released

    def expire(self, now: datetime.datetime) -> list[Hold]:
        """Release every hold still held past its expiry time; those released."""
        return [
            self.release(hold.order_id, hold_id=hold.hold_id)
            for hold in list(self.holds.values())
            if hold.expired(now)
        ]

    def _refusal(self, lines: tuple[StockLine, ...]) -> Refusal | None:
        if not lines or any(line.quantity <= 0 for line in lines):
            # Orders validates its lines; an order like this cannot be held as placed.
            return Refusal(ReservationFailureReason.UNKNOWN)
        unknown = [line for line in lines if line.sku not in self.levels]
        if unknown:
            return Refusal(
                ReservationFailureReason.UNKNOWN_SKU,
                tuple(_shortage(line, 0) for line in unknown),
            )
        short = [
            _shortage(line, self.levels[line.sku].available)
            for line in lines
            if line.quantity > self.levels[line.sku].available
        ]
        if short:
            return Refusal(ReservationFailureReason.INSUFFICIENT_STOCK, tuple(short))
        return None

    def _set(self, level: StockLevel) -> StockLevel:
        # The last line of defence in memory; the table's CHECK constraints are the other.
        if min(level.available, level.held, level.reserved) < 0:
            raise Oversold(level)
        self.levels[level.sku] = level
        return level


def _shortage(line: StockLine, available: int) -> StockShortage:
    # Quantities summed over lines may pass what the event's int can carry.
    return StockShortage(sku=line.sku, requested=min(line.quantity, MAX_UNITS), available=available)
