"""A benchmark section that cannot run here, for the runner's skip test."""

from __future__ import annotations

from evp.bench import Budget, Row, SectionSkipped


def run(budget: Budget) -> list[Row]:
    """Always skips, the way a section needing an absent broker would."""
    raise SectionSkipped("skipped", "no broker in this test")
