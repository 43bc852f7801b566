"""The chaos invariants on hand-made audits: a consistent one passes, each violation fails."""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

from evp.chaos.audit import Audit, Mail, fold_stock
from evp.chaos.injector import Injected
from evp.chaos.invariants import check_all
from evp.chaos.load import Arrival, Placed
from evp.chaos.quiescence import Pulse, Quiet
from evp.chaos.schedule import Fault, FaultKind, Process
from evp.demo.invariants import Observation, OrderSeen, PaymentSeen
from evp.demo.mix import Kind, PlannedOrder
from evp.events import ReleaseReason, StockAdded, StockHeld, StockLine, StockReleased, StockReserved

ORDER = "0f0e0d0c-0000-0000-0000-000000000000"
USER = "11111111-0000-0000-0000-000000000000"
LATER = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)


def _audit(**changes: Any) -> Audit:
    order = OrderSeen(
        ORDER,
        "paid",
        USER,
        {"PEN-3": 2},
        "CONFIRMED",
        total=Decimal("5.00"),
        timeline=("OrderPlaced", "OrderConfirmed"),
    )
    fold = fold_stock(
        [
            StockAdded.new(sku="PEN-3", quantity=10, on_hand=10, source="inventory"),
            *_held_then_reserved(uuid.UUID(ORDER), 2),
        ]
    )
    arrival = Arrival(0.0, PlannedOrder(Kind.PAID, (("PEN-3", 2),), "tok_ok", 0), "chaos-1-0")
    audit = Audit(
        observation=Observation(
            orders=[order],
            stock_added={"PEN-3": 10},
            available={"PEN-3": 8},
            payments={ORDER: PaymentSeen("PROCESSED", Decimal("5.00"), False)},
            emails=[("c@x", "Welcome to the shop, C"), ("c@x", "Your order 0F0E0D0C is confirmed")],
            customers=["c@x"],
            dead_letters={"orders.dlq": 0},
            charge_events=1,
        ),
        placed=[Placed(arrival, order_id=ORDER, attempts=1)],
        latencies={ORDER: 1.5},
        bound_s=60.0,
        stock_fold=fold,
        stock_table={"PEN-3": (10, 0, 2)},
        payment_events={ORDER: Counter({"PaymentProcessed": 1})},
        topic_charges={ORDER: {"e1"}},
        users=[USER],
        notifications=[("welcome", USER, "sent"), ("order_confirmed", ORDER, "sent")],
        mail=[Mail("c@x", "Welcome", "<a@shop>"), Mail("c@x", "Your order", "<b@shop>")],
        read_models=[],
        topic_ids=Counter({"e1": 1, "e2": 1}),
        analytics_ids={"e1", "e2"},
        unpublished={"orders": []},
        outboxes={"orders": (12, 12, 0)},
        projection_lags={"orders/orders_by_user": 0},
        letters={"orders.dlq": []},
        poisoned=0,
    )
    return dataclasses.replace(audit, **changes)


def _held_then_reserved(order_id: uuid.UUID, units: int) -> list[Any]:
    line = [StockLine(sku="PEN-3", quantity=units)]
    hold = uuid.uuid4()
    return [
        StockHeld.new(
            hold_id=hold, order_id=order_id, lines=line, expires_at=LATER, source="inventory"
        ),
        StockReserved.new(reservation_id=hold, order_id=order_id, lines=line, source="inventory"),
    ]


def _injected(**changes: Any) -> Injected:
    fault = Fault(5.0, Process("inventory", "inventory"), FaultKind.KILL)
    found = Injected(fault, 5.1, pid_before=100, pid_after=200, down_s=3.0)
    found.address_before = found.address_after = "http://127.0.0.1:9000"
    return dataclasses.replace(found, **changes)


_QUIET = Quiet(True, 4.0, Pulse(0, 0, 0, 0, 0, 0, 0, 0, (1,)))


def _failed(audit: Audit, injected: Injected | None = None, quiet: Quiet = _QUIET) -> set[str]:
    verdicts = check_all(audit, [injected or _injected()], quiet)
    return {verdict.name for verdict in verdicts if not verdict.passed}


def test_a_consistent_run_passes_every_invariant() -> None:
    """Hand-made figures that keep every promise pass every check, the demo's included."""
    assert _failed(_audit()) == set()


def test_a_release_after_the_reservation_gives_back_reserved_units() -> None:
    """Folding held -> reserved -> released leaves nothing held or reserved, never negative."""
    order = uuid.uuid4()
    fold = fold_stock(
        [
            StockAdded.new(sku="PEN-3", quantity=5, on_hand=5, source="inventory"),
            *_held_then_reserved(order, 5),
            StockReleased.new(
                reservation_id=uuid.uuid4(),
                order_id=order,
                lines=[StockLine(sku="PEN-3", quantity=5)],
                reason=ReleaseReason.ORDER_CANCELLED,
                source="inventory",
            ),
        ]
    )
    assert (fold.held["PEN-3"], fold.reserved["PEN-3"], fold.available("PEN-3")) == (0, 0, 5)
    assert fold.lowest["PEN-3"] == 0
    assert fold.negatives == []


def test_stock_held_beyond_what_was_added_is_noted() -> None:
    """A hold of more units than were added is a negative level, named with its event."""
    fold = fold_stock(
        [
            StockAdded.new(sku="PEN-3", quantity=1, on_hand=1, source="inventory"),
            *_held_then_reserved(uuid.uuid4(), 2)[:1],
        ]
    )
    assert len(fold.negatives) == 1
    assert "PEN-3 after StockHeld" in fold.negatives[0]


def test_a_table_unlike_its_store_fails_stock() -> None:
    """Inventory's table saying other than its folded store fails the stock invariant."""
    failed = _failed(_audit(stock_table={"PEN-3": (10, 1, 2)}))
    assert "stock conserved per SKU (added = available + held + reserved), never negative" in failed


def test_an_order_over_the_bound_fails() -> None:
    """An order that took longer than the bound to end fails the bound's invariant."""
    assert _failed(_audit(latencies={ORDER: 61.0})) == {
        "every order ended within 60 s of its placement"
    }


def test_a_second_charge_on_the_topic_fails() -> None:
    """Two PaymentProcessed events for one order on the topic fail 'charged once'."""
    failed = _failed(_audit(topic_charges={ORDER: {"e1", "e9"}}))
    assert "no order charged or refunded twice" in failed


def test_a_resent_copy_of_one_message_is_one_email() -> None:
    """The same Message-ID twice in the sink is one email (counted as resent), not a failure."""
    audit = _audit()
    assert _failed(_audit(mail=[*audit.mail, audit.mail[-1]])) == set()


def test_a_second_message_about_one_order_fails() -> None:
    """Two distinct messages in the sink for one email sent fail 'no duplicates'."""
    audit = _audit()
    extra = Mail("c@x", "Your order", "<c@shop>")
    failed = _failed(_audit(mail=[*audit.mail, extra]))
    assert failed == {"one welcome per user, one email per terminal order, no duplicates"}


def test_an_event_analytics_missed_fails() -> None:
    """An event on a topic with no copy in analytics fails."""
    failed = _failed(_audit(analytics_ids={"e1"}))
    assert failed == {"analytics holds every event on the topics"}


def test_an_outbox_behind_fails() -> None:
    """A relay checkpoint short of its store's last position fails 'outboxes drained'."""
    failed = _failed(_audit(outboxes={"orders": (12, 11, 0)}))
    assert failed == {"every outbox drained, every read model caught up"}


def test_a_killed_process_with_its_old_pid_did_not_come_back() -> None:
    """A kill after which the same pid runs is not a restart."""
    failed = _failed(_audit(), _injected(pid_after=100))
    assert failed == {"every process hit came back on its address"}


def test_no_quiescence_within_the_bound_fails() -> None:
    """A platform still busy when the bound ran out fails quiescence."""
    busy = Quiet(False, 60.0, Pulse(1, 0, 0, 0, 0, 0, 0, 0, (1,)))
    assert _failed(_audit(), quiet=busy) == {"quiet within 60 s after the last fault and order"}
