"""Smoke tests of ``make bench``'s transport section in quick mode (nothing here is timed)."""

from __future__ import annotations

import pytest

from evp.bench import QUICK, Row, render_table, runner
from evp.bench import transport as section

DIRECTIONS = (
    (section.EVP_PUBLISH, section.CONFLUENT_PRODUCER, "produce", "encode"),
    (section.EVP_SUBSCRIBER, section.CONFLUENT_CONSUMER, "consume", "decode"),
)


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    """The section's rows from one quick run on the embedded broker and registry."""
    return runner.run_section("transport", QUICK)


def _row(rows: list[Row], case: str, metric: str, baseline: str | None = None) -> Row:
    (found,) = [r for r in rows if (r.case, r.metric, r.baseline) == (case, metric, baseline)]
    return found


def test_evp_is_compared_with_confluent_serde_against_the_issue_target(rows: list[Row]) -> None:
    """Publishing and consuming carry a ratio to confluent's serde with the 1.3x target."""
    for ours, theirs, metric, _ in DIRECTIONS:
        compared = _row(rows, ours, metric, theirs)
        assert (compared.unit, compared.target) == ("events/s", 1.3)
        assert compared.ratio == pytest.approx(compared.value / _row(rows, theirs, metric).value)


def test_raw_bytes_are_reported_for_reference_without_a_target(rows: list[Row]) -> None:
    """Raw confluent-kafka bytes have a rate and our ratio to them, with no target."""
    for ours, _, metric, _ in DIRECTIONS:
        compared = _row(rows, ours, metric, section.RAW)
        assert (compared.target, compared.at_most) == (None, None)
        assert compared.ratio == pytest.approx(
            compared.value / _row(rows, section.RAW, metric).value
        )


def test_the_cost_over_the_codec_is_microseconds_per_event_capped_at_five(
    rows: list[Row],
) -> None:
    """The transport's cost is publish (consume) µs/event minus encode (decode) µs/event."""
    for ours, theirs, metric, codec_metric in DIRECTIONS:
        cost = _row(rows, ours, f"cost over {codec_metric}")
        assert (cost.unit, cost.at_most, cost.target) == ("µs/event", 5.0, None)
        rate, codec = (
            _row(rows, ours, metric, theirs).value,
            _row(rows, section.CODEC, codec_metric).value,
        )
        assert cost.value == pytest.approx(1e6 / rate - 1e6 / codec)


def test_no_registry_call_is_made_while_timing(rows: list[Row]) -> None:
    """Neither our clients nor confluent's ask the registry anything during timed rounds."""
    calls = {r.case: r for r in rows if r.metric == "registry calls"}
    assert calls.keys() == {
        section.EVP_PUBLISH,
        section.CONFLUENT_PRODUCER,
        section.EVP_SUBSCRIBER,
        section.CONFLUENT_CONSUMER,
    }
    assert all(r.value == 0 and r.at_most == 0 and r.met for r in calls.values())


def test_rates_are_positive(rows: list[Row]) -> None:
    """Every rate is positive, and every comparison carries a positive ratio."""
    rates = [r for r in rows if r.unit == "events/s"]
    assert len(rates) == 10
    assert all(r.section == "transport" and r.value > 0 for r in rates)
    assert all(r.ratio is not None and r.ratio > 0 for r in rows if r.baseline is not None)


def test_the_table_states_a_verdict_for_every_target(rows: list[Row]) -> None:
    """Two ratio targets, two cost ceilings and four zero-call checks each get a verdict."""
    verdicts = [line for line in render_table(rows).splitlines() if line.startswith("target ")]
    assert len(verdicts) == 8
    assert sum("(<= 5 µs/event)" in line for line in verdicts) == 2
