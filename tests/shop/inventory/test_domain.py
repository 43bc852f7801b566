"""The inventory's pure rules: holds, reservations, releases and expiries never oversell."""

from __future__ import annotations

import datetime
import uuid

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from evp.events import ReservationFailureReason, StockLine, StockShortage
from shop.inventory.domain import (
    MAX_UNITS,
    Hold,
    HoldState,
    InvalidQuantity,
    Inventory,
    Refusal,
    StockLevel,
    UnknownProduct,
    requested_lines,
)

T0 = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
LATER = T0 + datetime.timedelta(minutes=15)


def _inventory(**stock: int) -> Inventory:
    return Inventory(StockLevel(sku, added=units) for sku, units in stock.items())


def _lines(*pairs: tuple[str, int]) -> tuple[StockLine, ...]:
    return requested_lines(pairs)


def _hold(inventory: Inventory, order_id: uuid.UUID, *pairs: tuple[str, int]) -> object:
    return inventory.hold(order_id, _lines(*pairs), hold_id=uuid.uuid4(), expires_at=LATER)


def test_lines_of_one_sku_are_summed() -> None:
    """Two lines of one SKU are held as one line of their total, first seen first."""
    assert requested_lines([("B", 1), ("A", 2), ("B", 3)]) == (
        StockLine(sku="B", quantity=4),
        StockLine(sku="A", quantity=2),
    )


def test_a_hold_takes_units_out_of_the_available_ones() -> None:
    """Held units are no longer available to anyone else."""
    inventory = _inventory(A=5)
    hold = _hold(inventory, uuid.uuid4(), ("A", 3))
    assert isinstance(hold, Hold)
    assert hold.state is HoldState.HELD
    assert inventory.levels["A"] == StockLevel("A", added=5, held=3)
    assert inventory.levels["A"].available == 2


def test_a_short_line_holds_no_line_at_all() -> None:
    """One line short: the whole order is refused with its shortage, nothing is held."""
    inventory = _inventory(A=5, B=1)
    refusal = _hold(inventory, uuid.uuid4(), ("A", 1), ("B", 2))
    assert refusal == Refusal(
        ReservationFailureReason.INSUFFICIENT_STOCK,
        (StockShortage(sku="B", requested=2, available=1),),
    )
    assert inventory.levels["A"].held == 0


def test_an_unknown_sku_is_refused_as_such() -> None:
    """A line of no product refuses the order with UNKNOWN_SKU, before any shortage."""
    refusal = _hold(_inventory(A=0), uuid.uuid4(), ("A", 1), ("Z", 1))
    assert isinstance(refusal, Refusal)
    assert refusal.reason is ReservationFailureReason.UNKNOWN_SKU
    assert refusal.shortages == (StockShortage(sku="Z", requested=1, available=0),)


@pytest.mark.parametrize("pairs", [(), (("A", 0),), (("A", -2),)])
def test_an_order_with_nothing_to_hold_is_refused(pairs: tuple[tuple[str, int], ...]) -> None:
    """No lines, or a line of no units (which would add stock back), is refused."""
    inventory = _inventory(A=5)
    refusal = _hold(inventory, uuid.uuid4(), *pairs)
    assert refusal == Refusal(ReservationFailureReason.UNKNOWN)
    assert inventory.levels["A"] == StockLevel("A", added=5)


def test_an_order_is_decided_once() -> None:
    """Placing an order decided before (held or refused) changes nothing."""
    inventory = _inventory(A=5)
    held, refused = uuid.uuid4(), uuid.uuid4()
    _hold(inventory, held, ("A", 2))
    _hold(inventory, refused, ("A", 9))
    assert _hold(inventory, held, ("A", 2)) is None
    assert _hold(inventory, refused, ("A", 1)) is None
    assert inventory.levels["A"].held == 2


def test_a_reservation_moves_held_units_to_reserved() -> None:
    """Reserving the hold makes its units the order's; asking again answers the same."""
    inventory = _inventory(A=5)
    order_id = uuid.uuid4()
    hold = _hold(inventory, order_id, ("A", 2))
    assert isinstance(hold, Hold)
    reserved = inventory.reserve(order_id, hold.hold_id)
    assert reserved is not None
    assert reserved.state is HoldState.RESERVED
    assert inventory.reserve(order_id, hold.hold_id) == reserved
    assert inventory.levels["A"] == StockLevel("A", added=5, reserved=2)


def test_a_hold_that_is_gone_cannot_be_reserved() -> None:
    """Released, of another hold id, or never held: no reservation, nothing moves."""
    inventory = _inventory(A=5)
    order_id = uuid.uuid4()
    hold = _hold(inventory, order_id, ("A", 2))
    assert isinstance(hold, Hold)
    assert inventory.reserve(order_id, uuid.uuid4()) is None
    inventory.release(order_id, hold_id=hold.hold_id)
    assert inventory.reserve(order_id, hold.hold_id) is None
    assert inventory.reserve(uuid.uuid4(), uuid.uuid4()) is None
    assert inventory.levels["A"] == StockLevel("A", added=5)


def test_a_release_gives_back_held_or_reserved_units_once() -> None:
    """Released units are available again; a second release gives back nothing."""
    inventory = _inventory(A=5)
    order_id = uuid.uuid4()
    hold = _hold(inventory, order_id, ("A", 2))
    assert isinstance(hold, Hold)
    inventory.reserve(order_id, hold.hold_id)
    first = inventory.release(order_id, hold_id=hold.hold_id)
    second = inventory.release(order_id, hold_id=hold.hold_id)
    assert (first.state, first.lines) == (HoldState.RELEASED, (StockLine(sku="A", quantity=2),))
    assert second.lines == ()
    assert inventory.levels["A"] == StockLevel("A", added=5)


def test_releasing_an_unknown_order_closes_it() -> None:
    """A release for an order never seen gives nothing back, and the order holds nothing later."""
    inventory = _inventory(A=5)
    order_id, hold_id = uuid.uuid4(), uuid.uuid4()
    released = inventory.release(order_id, hold_id=hold_id)
    assert (released.hold_id, released.lines) == (hold_id, ())
    assert _hold(inventory, order_id, ("A", 1)) is None
    assert inventory.levels["A"].held == 0


def test_only_held_holds_past_their_time_expire() -> None:
    """Expiry releases held holds past their time, not reserved ones or those still due."""
    inventory = _inventory(A=10)
    due, reserved, early = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    inventory.hold(due, _lines(("A", 1)), hold_id=uuid.uuid4(), expires_at=T0)
    paid = inventory.hold(reserved, _lines(("A", 2)), hold_id=uuid.uuid4(), expires_at=T0)
    inventory.hold(early, _lines(("A", 3)), hold_id=uuid.uuid4(), expires_at=LATER)
    assert isinstance(paid, Hold)
    inventory.reserve(reserved, paid.hold_id)
    expired = inventory.expire(T0 + datetime.timedelta(seconds=1))
    assert [hold.order_id for hold in expired] == [due]
    assert inventory.levels["A"] == StockLevel("A", added=10, held=3, reserved=2)


def test_stock_is_added_in_positive_quantities_to_known_products() -> None:
    """Adding zero, too many, or to no product is refused with a typed error."""
    inventory = _inventory(A=MAX_UNITS - 1)
    with pytest.raises(InvalidQuantity):
        inventory.add_stock("A", 0)
    with pytest.raises(InvalidQuantity):
        inventory.add_stock("A", 2)
    with pytest.raises(UnknownProduct):
        inventory.add_stock("Z", 1)
    assert inventory.add_stock("A", 1).available == MAX_UNITS


SKUS = ("A", "B", "C")


class InventoryMachine(RuleBasedStateMachine):
    """Any interleaving of additions, holds, reservations, releases and expiries."""

    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.inventory = Inventory()
        self.added = dict.fromkeys(SKUS, 0)
        self.now = T0

    @initialize()
    def add_products(self) -> None:
        for sku in SKUS:
            self.inventory.add_product(sku)

    @rule(sku=st.sampled_from(SKUS), quantity=st.integers(1, 5))
    def add_stock(self, sku: str, quantity: int) -> None:
        self.inventory.add_stock(sku, quantity)
        self.added[sku] += quantity

    @rule(
        target=orders,
        lines=st.lists(st.tuples(st.sampled_from((*SKUS, "Z")), st.integers(-1, 4)), max_size=4),
        ttl=st.integers(0, 10),
    )
    def place(self, lines: list[tuple[str, int]], ttl: int) -> uuid.UUID:
        order_id = uuid.uuid4()
        before = dict(self.inventory.levels)
        outcome = self.inventory.hold(
            order_id,
            requested_lines(lines),
            hold_id=uuid.uuid4(),
            expires_at=self.now + datetime.timedelta(seconds=ttl),
        )
        if isinstance(outcome, Refusal):
            assert self.inventory.levels == before  # all or nothing
        return order_id

    @rule(order_id=orders)
    def place_again(self, order_id: uuid.UUID) -> None:
        before = dict(self.inventory.levels)
        again = self.inventory.hold(
            order_id, _lines(("A", 1)), hold_id=uuid.uuid4(), expires_at=self.now
        )
        assert again is None
        assert self.inventory.levels == before

    @rule(order_id=orders)
    def reserve(self, order_id: uuid.UUID) -> None:
        hold = self.inventory.holds[order_id]
        self.inventory.reserve(order_id, hold.hold_id)

    @rule(order_id=orders)
    def release(self, order_id: uuid.UUID) -> None:
        hold_id = self.inventory.holds[order_id].hold_id
        self.inventory.release(order_id, hold_id=hold_id)
        assert self.inventory.release(order_id, hold_id=hold_id).lines == ()

    @rule(target=orders)
    def release_unknown(self) -> uuid.UUID:
        order_id = uuid.uuid4()
        assert self.inventory.release(order_id, hold_id=uuid.uuid4()).lines == ()
        return order_id

    @rule(seconds=st.integers(0, 6))
    def expire(self, seconds: int) -> None:
        self.now += datetime.timedelta(seconds=seconds)
        for hold in self.inventory.expire(self.now):
            assert hold.state is HoldState.RELEASED

    @invariant()
    def every_unit_is_in_one_place(self) -> None:
        for sku in SKUS:
            level = self.inventory.levels[sku]
            assert level.added == self.added[sku]
            assert level.added == level.available + level.held + level.reserved
            assert min(level.available, level.held, level.reserved) >= 0

    @invariant()
    def the_levels_are_what_the_holds_say(self) -> None:
        for sku in SKUS:
            for state, counted in ((HoldState.HELD, "held"), (HoldState.RESERVED, "reserved")):
                total = sum(
                    line.quantity
                    for hold in self.inventory.holds.values()
                    if hold.state is state
                    for line in hold.lines
                    if line.sku == sku
                )
                assert getattr(self.inventory.levels[sku], counted) == total


TestInventoryInterleavings = InventoryMachine.TestCase
