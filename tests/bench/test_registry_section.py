"""Smoke tests of ``make bench``'s registry section and its load generator (nothing is timed)."""

from __future__ import annotations

import httpx
import pytest

from evp.bench import QUICK, Row, runner
from evp.bench import registry as section
from evp.bench.database import DATABASE_URL_VARIABLE
from evp.bench.loadgen import Plan, Request, generate_load


@pytest.fixture(scope="module")
def rows(evp_postgres: str) -> list[Row]:
    """The section's rows from one quick run on the test session's Postgres server."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(DATABASE_URL_VARIABLE, evp_postgres)
        return runner.run_section("registry", QUICK)


def _row(rows: list[Row], case: str, metric: str) -> Row:
    (found,) = [r for r in rows if (r.case, r.metric) == (case, metric)]
    return found


def test_lookups_are_measured_against_the_issue_targets(rows: list[Row]) -> None:
    """Both lookups report a rate against 3,000 req/s and a p99 against 20 ms, plus a p50."""
    for case in (section.GET_BY_ID, section.LOOKUP_BY_SCHEMA):
        rate = _row(rows, case, "lookups, 32 connections")
        assert (rate.unit, rate.target) == ("req/s", 1.0)
        assert rate.ratio == pytest.approx(rate.value / section.LOOKUP_TARGET_RATE)
        p99 = _row(rows, case, "p99 latency")
        assert (p99.unit, p99.target) == ("ms", 1.0)
        assert p99.ratio == pytest.approx(section.P99_TARGET_MS / p99.value)
        assert 0 < _row(rows, case, "p50 latency").value <= p99.value


def test_registrations_report_a_rate_and_latencies(rows: list[Row]) -> None:
    """Registrations into fresh subjects have a rate, a p50 and a p99, with no target."""
    metrics = {r.metric: r for r in rows if r.case == section.REGISTER}
    assert set(metrics) == {"registrations, 32 connections", "p50 latency", "p99 latency"}
    assert all(r.value > 0 and r.target is None for r in metrics.values())


def test_transitive_cost_growth_is_compared_with_linear(rows: list[Row]) -> None:
    """Costs against 1, 10 and 100 versions, and each 10x step's growth against 10x."""
    costs = [
        _row(rows, section.TRANSITIVE, m) for m in ("against 1 version", "against 10 versions")
    ]
    costs.append(_row(rows, section.TRANSITIVE, "against 100 versions"))
    assert all(r.unit == "ms" and r.value > 0 for r in costs)
    for fewer, more in ((1, 10), (10, 100)):
        growth = _row(rows, section.TRANSITIVE, f"cost growth, {fewer} to {more} versions")
        assert (growth.baseline, growth.target) == (section.LINEAR, 1.0)
        assert growth.ratio == pytest.approx(10 / growth.value)


def test_the_load_generator_counts_failed_requests_apart(schema_registry: str) -> None:
    """A request answered with an error is counted as failed and quoted; the rest complete."""
    subject_body = '{"schema": "\\"string\\""}'
    httpx.post(f"{schema_registry}/subjects/s/versions", content=subject_body).raise_for_status()
    plan = Plan(
        schema_registry,
        (
            Request("GET", "/schemas/ids/1"),
            Request("POST", "/subjects/s", subject_body),
            Request("GET", "/schemas/ids/999"),
        ),
        connections=2,
    )
    result = generate_load(plan)
    assert (result.completed, result.failed) == (2, 1)
    assert result.first_failure is not None
    assert result.first_failure.startswith("GET /schemas/ids/999: HTTP 404")


def test_a_plan_sent_once_times_each_request_in_plan_order(schema_registry: str) -> None:
    """Sending each request once reports every request's latency, in the plan's order."""
    plan = Plan(schema_registry, (Request("GET", "/"),) * 5, connections=2)
    result = generate_load(plan)
    assert (result.completed, len(result.each_ms)) == (5, 5)
    assert all(ms > 0 for ms in result.each_ms)


def test_a_plan_survives_its_trip_through_json() -> None:
    """The plan the load generator reads on stdin is the plan that was written."""
    plan = Plan("http://h:1", (Request("POST", "/p", "{}"),), duration_s=1.5, warmup_s=0.5)
    assert Plan.from_json(plan.to_json()) == plan
