"""Smoke tests of ``make bench``'s event-store section in quick mode (nothing here is timed)."""

from __future__ import annotations

import pytest

from evp.bench import QUICK, Row, runner
from evp.bench import eventstore as section
from evp.bench.database import DATABASE_URL_VARIABLE


@pytest.fixture(scope="module")
def rows(evp_postgres: str) -> list[Row]:
    """The section's rows from one quick run on the test session's Postgres server."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(DATABASE_URL_VARIABLE, evp_postgres)
        return runner.run_section("eventstore", QUICK)


def test_every_workload_is_compared_with_its_baseline(rows: list[Row]) -> None:
    """Appends and loads have a baseline row and an evp row carrying the issue's target."""
    compared = {(r.metric, r.baseline, r.target) for r in rows if r.case == section.OURS}
    assert ("append 1-event tx", section.PLAIN_INSERT, 0.7) in compared
    assert ("append 100-event tx", section.PLAIN_INSERT, 0.7) in compared
    assert {m for m, b, _ in compared if b == section.PLAIN_SELECT} == {
        "load 10-event stream",
        "load 100-event stream",
        "load 1,000-event stream",
    }


def test_the_relay_row_is_measured_against_ten_thousand_events_per_second(
    rows: list[Row],
) -> None:
    """The relay's rate is reported in events/s with the 10,000 events/s target as 1.0x."""
    (relay,) = [r for r in rows if r.case == "relay, instant acks"]
    assert (relay.unit, relay.target) == ("events/s", 1.0)
    assert relay.value > 0
    assert relay.ratio == pytest.approx(relay.value / section.RELAY_TARGET_RATE)


def test_rates_and_ratios_are_positive(rows: list[Row]) -> None:
    """Every rate is positive, and every comparison carries a positive ratio."""
    assert all(r.section == "eventstore" and r.value > 0 for r in rows)
    assert all(r.ratio is not None and r.ratio > 0 for r in rows if r.baseline is not None)
