"""Smoke tests of ``make bench``'s saga section in quick mode, and of its pure helpers."""

from __future__ import annotations

import math
import uuid

import pytest

from evp.bench import QUICK, Row, runner
from evp.bench import saga as section
from evp.bench.costs import CommitMarks, per_order
from evp.bench.shopload import Step, percentile, schedule, step_gaps, with_producers
from evp.demo.mix import Kind, PlannedOrder
from evp.up import SERVICES

# -- the section, once, in quick mode -------------------------------------------------------


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    """The section's rows from one quick run on a platform of its own."""
    return runner.run_section("saga", QUICK)


def _one(rows: list[Row], case: str, metric_start: str) -> Row:
    (found,) = [r for r in rows if r.case == case and r.metric.startswith(metric_start)]
    return found


def test_throughputs_are_measured_against_a_hundred_orders_per_second(rows: list[Row]) -> None:
    """The happy path and the mix each have a positive closed-loop rate with the target."""
    for what in (section.HAPPY, section.MIX):
        row = _one(rows, f"{what}, 1 instance", "closed loop")
        assert (row.unit, row.baseline, row.target) == ("orders/s", "100 orders/s", 1.0)
        assert row.value > 0
        assert row.ratio == pytest.approx(row.value / section.TARGET_RATE)


def test_latency_percentiles_are_reported_with_the_p99_target(rows: list[Row]) -> None:
    """p50 <= p95 <= p99 in ms, and p99 carries the 500 ms target as a ratio (lower wins)."""
    case = f"{section.HAPPY}, 1 instance"
    p50, p95, p99 = (_one(rows, case, f"p{p} ") for p in (50, 95, 99))
    assert {r.unit for r in (p50, p95, p99)} == {"ms"}
    assert 0 < p50.value <= p95.value <= p99.value
    assert (p99.baseline, p99.target) == ("500 ms", 1.0)
    assert p99.ratio == pytest.approx(section.P99_TARGET_MS / p99.value)


def test_cpu_rows_name_every_process(rows: list[Row]) -> None:
    """CPU per order has a row for each service, the infrastructure and the client."""
    names = {r.case.removeprefix("cpu: ") for r in rows if r.case.startswith("cpu: ")}
    expected = {*SERVICES, "broker", "registry", "smtp", section.POSTGRES, section.CLIENT}
    assert expected | {"platform total"} == names
    cpu = [r for r in rows if r.case.startswith("cpu: ")]
    assert all(r.unit == "ms" and r.value >= 0 for r in cpu)
    assert _one(rows, "cpu: platform total", "CPU per order").value > 0


def test_the_commit_limit_and_the_share_reached_are_reported(rows: list[Row]) -> None:
    """Commit rate, commits per order, the limit and the share of it with the 0.5 target."""
    assert _one(rows, section.POSTGRES, "single-row commits").value > 0
    case = f"{section.HAPPY}, 1 instance"
    commits = _one(rows, case, "commits per order")
    assert commits.unit == "commits"
    assert commits.value > 0
    limit = _one(rows, "commit limit", "orders/s")
    assert limit.unit == "orders/s"
    assert limit.value > 0
    share = _one(rows, case, "share of the commit limit")
    assert share.target == section.LIMIT_TARGET
    assert share.ratio == pytest.approx(share.value)
    assert share.value > 0


# -- pure helpers ---------------------------------------------------------------------------


def test_percentile_is_the_nearest_rank() -> None:
    """The nearest-rank percentile: p50 of 1..10 is 5, p99 is 10, an empty list is 0."""
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 0.5) == 5.0
    assert percentile(values, 0.99) == 10.0
    assert percentile(values, 0.0) == 1.0
    assert percentile([], 0.5) == 0.0


def test_the_open_loop_schedule_is_evenly_spaced_and_cycles_the_orders() -> None:
    """Orders are due every 1/rate seconds, as many as the duration holds, cycled in turn."""
    orders = [
        PlannedOrder(Kind.PAID, (("BOOK-42", 1),), "tok_ok", customer=0),
        PlannedOrder(Kind.PAID, (("PEN-3", 1),), "tok_ok", customer=1),
    ]
    due = schedule(orders, rate=4.0, duration_s=2.0, seed=7)
    assert [a.at for a in due] == [i / 4 for i in range(8)]
    assert [a.order for a in due] == orders * 4
    assert len({a.key for a in due}) == len(due)
    with pytest.raises(ValueError, match="positive rate"):
        schedule(orders, rate=0.0, duration_s=1.0, seed=7)


def test_commits_per_order_leave_out_the_background_and_the_bench() -> None:
    """Idle commits (rate times span) and the bench's own queries are subtracted first."""
    idle = (CommitMarks(0.0, 1_000, 500), CommitMarks(2.0, 1_100, 520))  # 50/s and 10/s
    before, after = CommitMarks(10.0, 2_000, 600), CommitMarks(20.0, 5_000, 2_600)
    cost = per_order(before, after, orders=100, idle=idle, own_commits=500)
    assert cost.commits == pytest.approx((3_000 - 500 - 500) / 100)
    assert cost.writes == pytest.approx((2_000 - 100) / 100)
    assert per_order(before, after, orders=10).commits == pytest.approx(300.0)
    with pytest.raises(ValueError, match="no orders"):
        per_order(before, after, orders=0)


def test_step_gaps_are_medians_in_saga_order() -> None:
    """Each consecutive pair of events gets its median gap; placement comes first."""
    timelines = {
        "a": [("OrderPlaced", 10.1), ("StockHeld", 10.3), ("OrderConfirmed", 10.4)],
        "b": [("OrderPlaced", 20.2), ("StockHeld", 20.6), ("OrderConfirmed", 20.7)],
        "c": [("OrderPlaced", 30.3), ("StockHeld", 30.4), ("OrderConfirmed", 30.6)],
    }
    started = {"a": 10.0, "b": 20.0, "c": 30.0}
    gaps = step_gaps(timelines, started)
    assert [pair for pair, _ in gaps] == [
        "POST -> OrderPlaced",
        "OrderPlaced -> StockHeld",
        "StockHeld -> OrderConfirmed",
    ]
    medians = [seconds for _, seconds in gaps]
    assert all(math.isclose(m, e) for m, e in zip(medians, (0.2, 0.2, 0.1), strict=True))


def test_an_event_is_preceded_by_its_record_at_the_producer() -> None:
    """A reply first recorded elsewhere gets that record before it; later copies do not."""
    placed, held = uuid.uuid4(), uuid.uuid4()
    timelines = {"a": [Step("OrderPlaced", placed, 10.0), Step("StockHeld", held, 10.3)]}
    produced = {held: ("inventory", 10.2), placed: ("analytics", 10.1)}
    assert with_producers(timelines, produced) == {
        "a": [("OrderPlaced", 10.0), ("StockHeld@inventory", 10.2), ("StockHeld", 10.3)]
    }
