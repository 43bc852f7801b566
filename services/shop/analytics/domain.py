"""What analytics decides without a database: what it consumes, where a copy goes, ratios."""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from evp.avro import Event
from evp.events import EVENT_TYPES

__all__ = [
    "CONSUMED",
    "DEFAULT_MINUTES",
    "MAX_MINUTES",
    "MAX_REPORT_DAYS",
    "conversion",
    "minute_of",
    "stream_of",
]

CONSUMED: tuple[type[Event], ...] = tuple(EVENT_TYPES[name] for name in sorted(EVENT_TYPES))
"""Every event of the shop: analytics publishes none, so it reads all the others'."""

DEFAULT_MINUTES = 60
"""How many minutes of event counts the summary shows unless asked otherwise."""
MAX_MINUTES = 1440
"""At most a day of minutes in one summary, so the answer stays small."""
MAX_REPORT_DAYS = 366
"""The longest daily report: a (leap) year."""

_FOUR_PLACES = Decimal("0.0001")


def stream_of(event: Event) -> str:
    """The stream analytics keeps ``event``'s copy in: its topic and aggregate key, so a
    stream holds one aggregate's events in the order its partition delivered them."""
    return f"{event.TOPIC}-{event.key()}"


def minute_of(moment: datetime.datetime) -> datetime.datetime:
    """The start of the minute ``moment`` falls in."""
    return moment.replace(second=0, microsecond=0)


def conversion(confirmed: int, placed: int) -> Decimal | None:
    """Confirmed orders per order placed, to four places; ``None`` before any order."""
    if placed == 0:
        return None
    return (Decimal(confirmed) / Decimal(placed)).quantize(_FOUR_PLACES, ROUND_HALF_EVEN)
