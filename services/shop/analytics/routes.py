"""Analytics' HTTP API, for admins: the shop's summary and its daily report.

Both answer from the read models (:mod:`shop.analytics.projections`), each in one
read-only snapshot so its figures agree with one another. Only orders whose placement
analytics has seen count; money is written as decimal strings (:data:`shop.api.Money`).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, PlainSerializer, WithJsonSchema

from evp.postgres.migrations import AnyConnection
from evp.service import ServiceRuntime, current_runtime
from evp.web import FieldError, InvalidRequest, require_admin
from shop.analytics.domain import DEFAULT_MINUTES, MAX_MINUTES, MAX_REPORT_DAYS, conversion
from shop.analytics.projections import CANCELLED, CONFIRMED
from shop.api import money_text

__all__ = [
    "Amount",
    "DailyReport",
    "DayFigures",
    "MinuteCount",
    "OrderCounts",
    "SagaDurations",
    "Summary",
    "router",
]

Runtime = Annotated[ServiceRuntime, Depends(current_runtime)]
# Every route is for admins: the shop's figures are not its customers' business.
router = APIRouter(prefix="/analytics", tags=["analytics"], dependencies=[Depends(require_admin)])

Amount = Annotated[
    Decimal,
    PlainSerializer(money_text, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d+\.\d{2}$", "examples": ["1234.50"]}),
]
"""A sum of money as ``shop.api.Money`` writes it ("1234.50"), without its bound on digits:
a sum of many totals may pass the bound one total keeps to."""


class OrderCounts(BaseModel):
    """Orders placed, and how many of them ended confirmed or cancelled (and why)."""

    placed: int
    confirmed: int
    cancelled: int
    cancelled_by_reason: dict[str, int]


class SagaDurations(BaseModel):
    """Seconds from placement to the saga's end, over orders whose saga ended."""

    p50: float | None
    p95: float | None
    p99: float | None
    count: int


class MinuteCount(BaseModel):
    """How many events of one type happened in one minute (UTC)."""

    minute: datetime.datetime
    event_type: str
    count: int


class Summary(BaseModel):
    """The shop's figures so far."""

    orders: OrderCounts
    revenue: dict[str, Amount] = Field(description="Confirmed orders' totals per currency.")
    conversion: str | None = Field(
        description="Confirmed orders per order placed, a decimal string with four places"
        ' ("0.6667"); null before any order.',
        examples=["0.6667"],
    )
    saga_duration_seconds: SagaDurations
    events_per_minute: list[MinuteCount]


class DayFigures(BaseModel):
    """One UTC day: orders placed, sagas that ended, and the confirmed orders' revenue."""

    day: datetime.date
    placed: int
    confirmed: int
    cancelled: int
    revenue: dict[str, Amount]


class DailyReport(BaseModel):
    """One row per day from ``from`` to ``to``, both included."""

    from_: datetime.date = Field(serialization_alias="from")
    to: datetime.date
    days: list[DayFigures]


@router.get("/summary", summary="The shop's figures so far")
async def summary(
    runtime: Runtime,
    minutes: Annotated[
        int, Query(ge=1, le=MAX_MINUTES, description="How many recent minutes of event counts.")
    ] = DEFAULT_MINUTES,
) -> Summary:
    """Orders by outcome, revenue, conversion, saga duration percentiles, event rates."""
    async with _snapshot(runtime) as connection:
        (counts,) = await connection.fetch(_ORDER_COUNTS)
        reasons = await connection.fetch(_CANCEL_REASONS)
        revenue = await connection.fetch(_REVENUE)
        (durations,) = await connection.fetch(_DURATIONS)
        rates = await connection.fetch(_EVENT_RATES, minutes)
    placed, confirmed = int(counts["placed"]), int(counts["confirmed"])
    ratio = conversion(confirmed, placed)
    p50, p95, p99 = durations["percentiles"] or (None, None, None)
    return Summary(
        orders=OrderCounts(
            placed=placed,
            confirmed=confirmed,
            cancelled=int(counts["cancelled"]),
            cancelled_by_reason={row["cancel_reason"]: int(row["n"]) for row in reasons},
        ),
        revenue={row["currency"]: row["amount"] for row in revenue},
        conversion=None if ratio is None else f"{ratio:f}",
        saga_duration_seconds=SagaDurations(
            p50=p50, p95=p95, p99=p99, count=int(durations["count"])
        ),
        events_per_minute=[
            MinuteCount(minute=row["minute"], event_type=row["event_type"], count=row["count"])
            for row in rates
        ],
    )


@router.get("/reports/daily", summary="Orders and revenue per day")
async def daily_report(
    runtime: Runtime,
    from_: Annotated[datetime.date, Query(alias="from", description="First day, YYYY-MM-DD.")],
    to: Annotated[datetime.date, Query(description="Last day (included), YYYY-MM-DD.")],
) -> DailyReport:
    """One row per UTC day in the range, days without orders included."""
    _check_range(from_, to)
    async with _snapshot(runtime) as connection:
        placed = await connection.fetch(_PLACED_PER_DAY, from_, to)
        ended = await connection.fetch(_ENDED_PER_DAY, from_, to)
    days = {
        from_ + datetime.timedelta(days=n): DayFigures(
            day=from_ + datetime.timedelta(days=n), placed=0, confirmed=0, cancelled=0, revenue={}
        )
        for n in range((to - from_).days + 1)
    }
    for row in placed:
        days[row["day"]].placed = int(row["n"])
    revenue: defaultdict[datetime.date, dict[str, Decimal]] = defaultdict(dict)
    for row in ended:
        figures = days[row["day"]]
        if row["state"] == CONFIRMED:
            figures.confirmed += int(row["n"])
            revenue[row["day"]][row["currency"]] = row["amount"]
        elif row["state"] == CANCELLED:
            figures.cancelled += int(row["n"])
    for day, amounts in revenue.items():
        days[day].revenue = dict(sorted(amounts.items()))
    return DailyReport(from_=from_, to=to, days=list(days.values()))


def _check_range(first: datetime.date, last: datetime.date) -> None:
    if first > last:
        raise InvalidRequest(
            "the report's range is empty",
            [FieldError("query.to", f"must not be before from ({first})", "date_range")],
        )
    if (last - first).days + 1 > MAX_REPORT_DAYS:
        raise InvalidRequest(
            "the report's range is too long",
            [FieldError("query.to", f"the range is {MAX_REPORT_DAYS} days at most", "date_range")],
        )


@asynccontextmanager
async def _snapshot(runtime: ServiceRuntime) -> AsyncIterator[AnyConnection]:
    """A read-only transaction that sees one moment of the read models."""
    async with (
        runtime.recorder.pool.acquire() as connection,
        connection.transaction(isolation="repeatable_read", readonly=True),
    ):
        yield connection


# Only orders whose placement was folded count, so conversion never passes 1 and revenue
# always has a currency.
_ORDER_COUNTS = f"""
    SELECT count(*) AS placed,
           count(*) FILTER (WHERE state = '{CONFIRMED}') AS confirmed,
           count(*) FILTER (WHERE state = '{CANCELLED}') AS cancelled
    FROM order_facts WHERE placed_at IS NOT NULL
"""
_CANCEL_REASONS = f"""
    SELECT cancel_reason, count(*) AS n FROM order_facts
    WHERE placed_at IS NOT NULL AND state = '{CANCELLED}'
    GROUP BY cancel_reason ORDER BY cancel_reason
"""
_REVENUE = f"""
    SELECT currency, sum(total) AS amount FROM order_facts
    WHERE placed_at IS NOT NULL AND state = '{CONFIRMED}'
    GROUP BY currency ORDER BY currency
"""
_DURATIONS = """
    SELECT count(*) AS count,
           percentile_cont(ARRAY[0.5, 0.95, 0.99]::float8[]) WITHIN GROUP (
               ORDER BY extract(epoch FROM terminal_at - placed_at)::float8
           ) AS percentiles
    FROM order_facts WHERE placed_at IS NOT NULL AND terminal_at IS NOT NULL
"""
# The last N minutes by the database's clock, the current one included.
_EVENT_RATES = """
    SELECT minute, event_type, count FROM event_counts
    WHERE minute >= date_trunc('minute', now()) - make_interval(mins => $1::int - 1)
    ORDER BY minute, event_type
"""
# Days are UTC days; the bounds are worked out by Postgres, whose dates go past 9999-12-31
# (Python's stop there, so `to` + 1 day would fail on the last day it knows).
_FROM_DAY = "$1::date::timestamp AT TIME ZONE 'UTC'"
_AFTER_DAY = "($2::date + 1)::timestamp AT TIME ZONE 'UTC'"
_PLACED_PER_DAY = f"""
    SELECT (placed_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n FROM order_facts
    WHERE placed_at >= {_FROM_DAY} AND placed_at < {_AFTER_DAY}
    GROUP BY day
"""
_ENDED_PER_DAY = f"""
    SELECT (terminal_at AT TIME ZONE 'UTC')::date AS day, state, currency,
           count(*) AS n, sum(total) AS amount
    FROM order_facts
    WHERE placed_at IS NOT NULL
      AND terminal_at >= {_FROM_DAY} AND terminal_at < {_AFTER_DAY}
    GROUP BY day, state, currency
"""
