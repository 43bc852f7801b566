"""Smoke tests of ``make bench``'s codec section in quick mode (nothing here is timed)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from evp.bench import QUICK, Disagreement, Row, render_table, runner
from evp.bench import codec as section

BASELINES = ("fastavro", "confluent")


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    """The codec section's rows from one quick run."""
    return runner.run_section("codec", QUICK)


def test_every_contender_is_measured_for_every_metric(rows: list[Row]) -> None:
    """Each baseline has a row per metric, and ours one per metric and baseline."""
    keys = {(r.case, r.metric, r.baseline) for r in rows}
    expected: set[tuple[str, str, str | None]] = {
        (b, m, None) for b in BASELINES for m in section.METRICS
    }
    expected |= {("evp", m, b) for b in BASELINES for m in section.METRICS}
    assert keys == expected
    assert len(rows) == len(expected)


def test_rates_and_ratios_are_positive(rows: list[Row]) -> None:
    """Every rate is positive, and every comparison carries a positive ratio."""
    assert all(r.section == "codec" and r.unit == "records/s" and r.value > 0 for r in rows)
    assert all(r.ratio is not None and r.ratio > 0 for r in rows if r.baseline is not None)


def test_round_trip_rows_carry_the_issue_targets(rows: list[Row]) -> None:
    """Round trip must reach 1.0x (stretch 1.2x) raw fastavro and 2.0x confluent's serde."""
    targets = {
        r.baseline: (r.target, r.stretch)
        for r in rows
        if r.case == "evp" and r.metric == "round trip"
    }
    assert targets == {"fastavro": (1.0, 1.2), "confluent": (2.0, None)}


def test_table_lists_every_row_under_the_header(rows: list[Row]) -> None:
    """The table has the header, a rule, one line per row, then a verdict per target."""
    lines = render_table(rows).splitlines()
    assert lines[0].split() == [
        "section",
        "case",
        "metric",
        "value",
        "unit",
        "baseline",
        "ratio",
        "target",
    ]
    assert set(lines[1]) == {"-", " "}
    assert len([line for line in lines if line.startswith("codec ")]) == len(rows)
    assert len([line for line in lines if line.startswith("target ")]) == 2


def test_contenders_that_write_different_bodies_fail_loudly() -> None:
    """A baseline writing other bytes than ours stops the run before any timing."""
    field = section.contenders(section.sample_order())
    broken = dataclasses.replace(field[1], encode=lambda datum: field[1].encode(datum) + b"\x00")
    with pytest.raises(Disagreement, match="Avro bodies differ"):
        section.check_agreement([field[0], broken])


def test_main_writes_the_rows_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--section codec --quick --json FILE`` prints the table and writes the same rows."""
    out = tmp_path / "bench.json"
    assert runner.main(["--section", "codec", "--quick", "--json", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["meta"]["quick"] is True
    assert len(document["rows"]) == 12
    assert "records/s" in capsys.readouterr().out


def test_a_skipped_section_is_reported_and_the_run_succeeds(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A section that cannot run here is named in the output instead of failing the run."""
    monkeypatch.setitem(runner.SECTIONS, "skipped", "tests.bench.skipped_section")
    assert runner.main(["--section", "skipped", "--quick"]) == 0
    assert "section skipped skipped: no broker in this test" in capsys.readouterr().out
