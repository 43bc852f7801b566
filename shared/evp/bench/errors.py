"""Errors of ``evp.bench``: a section that cannot run here, or contenders that disagree."""

from __future__ import annotations

from evp.errors import EvpError

__all__ = ["BenchError", "Disagreement", "SectionSkipped"]


class BenchError(EvpError):
    """Root of the benchmark's deliberate errors."""


class SectionSkipped(BenchError):
    """A section cannot run in this environment (e.g. no broker); the others still run."""

    def __init__(self, section: str, reason: str) -> None:
        super().__init__(f"section {section} skipped: {reason}", section=section)
        self.section = section
        self.reason = reason


class Disagreement(BenchError):
    """A contender disagrees with another (or with its own input), so timing it is moot."""

    def __init__(
        self, message: str, *, section: str, case: str, baseline: str | None = None
    ) -> None:
        super().__init__(message, section=section, case=case, baseline=baseline)
        self.section = section
        self.case = case
        self.baseline = baseline
