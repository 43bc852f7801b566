"""A problem found in ``schemas/``: where it is (file and JSON path), which rule, and why."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Finding", "Severity"]


class Severity(enum.Enum):
    """Errors fail the command; warnings are reported only."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Finding:
    """One problem, printed as ``file: json-path: RULE_ID: message``."""

    path: Path
    json_path: str
    rule: str
    message: str
    severity: Severity = Severity.ERROR

    def format(self, relative_to: Path | None = None) -> str:
        """The one-line text form."""
        return f"{self.display_path(relative_to)}: {self.json_path}: {self.rule}: {self.message}"

    def display_path(self, relative_to: Path | None = None) -> str:
        """The file path, relative to ``relative_to`` when it lies below it."""
        if relative_to is not None and self.path.is_relative_to(relative_to):
            return str(self.path.relative_to(relative_to))
        return str(self.path)
