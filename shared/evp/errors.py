"""The root of every error the platform raises on purpose.

Each subpackage derives its own root from :class:`EvpError`; subclasses carry structured
fields (subject, version, field path, ...) so that callers can act on them and messages
name exactly what was wrong and where.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EvpError"]


class EvpError(Exception):
    """Base class of all deliberate errors; ``fields`` holds the structured context."""

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}

    def __str__(self) -> str:
        if not self.fields:
            return self.message
        context = ", ".join(f"{key}={value!r}" for key, value in self.fields.items())
        return f"{self.message} ({context})"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form: the error type, its message and its fields."""
        return {
            "error": type(self).__name__,
            "message": self.message,
            **{
                k: v if isinstance(v, str | int | float | bool) else str(v)
                for k, v in self.fields.items()
            },
        }
