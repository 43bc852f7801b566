"""Registry modes: whether a subject (or the whole registry) accepts writes, or imports."""

from __future__ import annotations

from enum import StrEnum

from evp.registry.errors import InvalidModeError

__all__ = ["Mode"]


class Mode(StrEnum):
    """``READWRITE`` by default; ``IMPORT`` accepts schemas with given ids and versions."""

    READWRITE = "READWRITE"
    READONLY = "READONLY"
    READONLY_OVERRIDE = "READONLY_OVERRIDE"
    IMPORT = "IMPORT"

    @classmethod
    def parse(cls, value: object) -> Mode:
        """The mode named by ``value`` (any case); :class:`InvalidModeError` if none."""
        if isinstance(value, str) and value.upper() in cls.__members__:
            return cls[value.upper()]
        raise InvalidModeError(value)

    @property
    def read_only(self) -> bool:
        """Whether writes are refused."""
        return self in (Mode.READONLY, Mode.READONLY_OVERRIDE)
