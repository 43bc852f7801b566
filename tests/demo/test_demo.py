"""``evp demo`` shops over HTTP and holds every invariant; ``evp demo --tour`` still runs."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from evp.demo.invariants import Observation, OrderSeen, PaymentSeen, check_all

REPO = Path(__file__).resolve().parents[2]


def test_demo_places_every_kind_and_every_invariant_holds(tmp_path: Path) -> None:
    """12 orders with inventory SIGKILLed midway: exit 0, all invariants PASS, each kind seen."""
    report = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "evp.cli.main", "demo", "--orders", "12", "--json", str(report)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    doc = json.loads(report.read_text())
    assert all(verdict["passed"] for verdict in doc["invariants"]), doc["invariants"]
    assert set(doc["orders"]["by_kind"]) == {
        "paid",
        "declined",
        "out-of-stock",
        "payment-timeout",
        "customer-cancel",
        "last-items-burst",
    }
    assert doc["chaos"]["restarted"]
    assert doc["chaos"]["new_pid"] != doc["chaos"]["old_pid"]
    assert "ALL INVARIANTS HOLD" in done.stdout


def _shop(**changes: object) -> Observation:
    order = OrderSeen(
        "0f0e0d0c-0000-0000-0000-000000000000",
        "paid",
        "c@x",
        {"PEN-3": 2},
        "CONFIRMED",
        total=Decimal("5.00"),
        timeline=("OrderPlaced", "OrderConfirmed"),
    )
    seen = Observation(
        orders=[order],
        stock_added={"PEN-3": 10},
        available={"PEN-3": 8},
        payments={order.order_id: PaymentSeen("PROCESSED", Decimal("5.00"), False)},
        emails=[("c@x", "Welcome to the shop, C"), ("c@x", "Your order 0F0E0D0C is confirmed")],
        customers=["c@x"],
        dead_letters={"orders.dlq": 0},
    )
    for key, value in changes.items():
        setattr(seen, key, value)
    return seen


def test_invariants_hold_on_a_consistent_shop() -> None:
    """Hand-made data that keeps every promise passes every check."""
    assert all(verdict.passed for verdict in check_all(_shop()))


def test_each_violation_fails_its_invariant() -> None:
    """Leaked stock, a double refund, a missing email, a dead letter: each one fails."""
    cases = {
        "no stock oversold or leaked": _shop(available={"PEN-3": 7}),
        "charges minus refunds equal confirmed totals": _shop(
            payments={
                "0f0e0d0c-0000-0000-0000-000000000000": PaymentSeen(
                    "REFUNDED", Decimal("5.00"), True
                )
            }
        ),
        "one email per terminal order": _shop(emails=[("c@x", "Welcome to the shop, C")]),
        "no dead letters": _shop(dead_letters={"orders.dlq": 1}),
    }
    for name, seen in cases.items():
        failed = {v.name for v in check_all(seen) if not v.passed}
        assert failed == {name}, (name, failed)


def test_an_order_not_ended_fails() -> None:
    """An order still PENDING at the end is a violation of 'terminal exactly once'."""
    (order,) = _shop().orders
    pending = OrderSeen(order.order_id, "paid", "c@x", {}, "PENDING", timeline=("OrderPlaced",))
    verdicts = check_all(_shop(orders=[pending], available={"PEN-3": 10}, payments={}))
    assert not verdicts[0].passed


def test_tour_runs_every_step() -> None:
    """``evp demo --tour`` exits 0, shows the saga chain, the strict refusal and a dead letter."""
    done = subprocess.run(
        [sys.executable, "-m", "evp.demo", "--tour"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr[-3000:]
    assert "0 finding(s)" in out
    assert "0 stale" in out
    assert "decoded equals original: True" in out
    assert "shipping_address = None" in out
    assert out.count("caused by (a user request)") == 2
    assert "OrderConfirmed" in out
    assert "SchemaNotRegistered" in out
    assert "reason: wire-format" in out
    assert out.rstrip().endswith("Demo complete.")
