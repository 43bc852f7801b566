"""The orders API: place, read (now or as of a moment), list and cancel orders; the sagas.

An order that does not exist, or is not the caller's (unless an admin asks), is a 404. The
saga routes are an admin's: each saga's steps and its events decoded with their causation.
The saga's definition is in the service's AsyncAPI document (``x-evp-sagas``).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import uuid
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, Field, JsonValue

from evp.events import Currency, OrderLine, OrderPlaced, ShippingAddress
from evp.service import ServiceRuntime, current_runtime
from evp.web import Conflict, CurrentAdmin, CurrentUser, FieldError, InvalidRequest, NotFound
from evp.web.auth import Principal
from shop.api import NO_NUL, Money, Page, event_data
from shop.orders.domain import SOURCE, Order
from shop.orders.engine import CancelRequested, SagaState, StepRun, TimelineEntry
from shop.orders.errors import KeyReused, NotCancellable
from shop.orders.handlers import orders_of
from shop.orders.saga import ORDER_SAGA

__all__ = ["router"]

Runtime = Annotated[ServiceRuntime, Depends(current_runtime)]

router = APIRouter(tags=["orders"])

_ORDER_ID_PREFIX = r"^[0-9A-Fa-f-]{1,36}$"


# -- models -----------------------------------------------------------------------------


class LineIn(BaseModel):
    """One line of an order: a SKU of inventory's catalogue and how many."""

    sku: str = Field(min_length=1, max_length=64, pattern=NO_NUL)
    quantity: int = Field(gt=0, le=1000)


class PaymentIn(BaseModel):
    """How the order is paid: a payment provider's token."""

    token: str = Field(min_length=1, max_length=200, pattern=NO_NUL)


class AddressIn(BaseModel):
    """Where to deliver."""

    recipient: str = Field(min_length=1, max_length=200)
    street: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    country_code: str = Field(pattern=r"^[A-Z]{2}$")


class OrderIn(BaseModel):
    """An order to place; prices come from the catalogue, not from the caller."""

    lines: list[LineIn] = Field(min_length=1, max_length=100)
    payment: PaymentIn
    shipping_address: AddressIn | None = None


class Accepted(BaseModel):
    """An order taken: its saga runs on."""

    order_id: uuid.UUID
    status: str


class LineOut(BaseModel):
    """One line with the unit price it was placed at."""

    sku: str
    quantity: int
    unit_price: Money


class TimelineOut(BaseModel):
    """One event of the order's saga, as its customer sees it."""

    event_type: str
    at: datetime.datetime
    source: str


class SagaEventOut(TimelineOut):
    """One event of the saga, as an admin sees it: its ids, its step and its fields."""

    event_id: uuid.UUID
    causation_id: uuid.UUID | None
    """The event that caused this one (a reply's is the command it answers); ``None``: a
    user's request."""
    correlation_id: uuid.UUID
    step: str | None
    """The step the event started (its command) or answered (a reply it waits for)."""
    data: dict[str, JsonValue]
    """The event's own fields, its envelope left out (see ``shop.api.event_data``)."""


class OrderOut(BaseModel):
    """An order, its status and its saga's events in order."""

    order_id: uuid.UUID
    status: str
    lines: list[LineOut]
    total: Money
    currency: str
    cancellation_reason: str | None
    timeline: list[TimelineOut]


class OrderSummary(BaseModel):
    """An order in the caller's list."""

    order_id: uuid.UUID
    status: str
    total: Money
    currency: str
    placed_at: datetime.datetime


class SagaSummary(BaseModel):
    """A saga in the admin's list."""

    order_id: uuid.UUID
    user_id: uuid.UUID
    state: str
    step: str | None
    started_at: datetime.datetime
    step_since: datetime.datetime
    due_at: datetime.datetime | None


class StepOut(BaseModel):
    """One step of the saga's definition and how it went."""

    name: str
    state: str
    """``pending``, ``running``, ``succeeded``, ``failed``, ``timed_out``, ``cancelled``,
    ``compensated``."""
    started_by: str
    waits_for: list[str]
    compensation: str | None
    started_at: datetime.datetime | None
    ended_at: datetime.datetime | None
    due_at: datetime.datetime | None


class SagaOut(BaseModel):
    """A saga in full: its order's status, each step's state, and the timeline."""

    order_id: uuid.UUID
    status: str
    step: str | None
    steps: list[StepOut]
    timeline: list[SagaEventOut]


class Redriven(BaseModel):
    """A stuck step's command, published again (same event id: participants deduplicate)."""

    order_id: uuid.UUID
    step: str
    event_type: str
    event_id: uuid.UUID


# -- orders -------------------------------------------------------------------------------


@router.post("/orders", status_code=202, summary="Place an order")
async def place_order(
    body: OrderIn,
    user: CurrentUser,
    runtime: Runtime,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)
    ] = None,
) -> Accepted:
    """Price the lines from the catalogue and store OrderPlaced; the saga takes it from there.

    The same ``Idempotency-Key`` with the same body answers the order placed the first time;
    with another body it is a 409 (as Stripe does).
    """
    lines, currency = await _priced(runtime, body.lines)
    address = body.shipping_address
    placed = OrderPlaced.new(
        order_id=uuid.uuid4(),
        user_id=user.user_id,
        lines=lines,
        total=sum((line.unit_price * line.quantity for line in lines), Decimal("0.00")),
        currency=currency,
        shipping_address=ShippingAddress(**address.model_dump()) if address else None,
        source=SOURCE,
    )
    request_hash = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    orders = orders_of(runtime)
    try:
        result = await orders.place(
            placed,
            payment_token=body.payment.token,
            idempotency=(idempotency_key, request_hash) if idempotency_key else None,
        )
    except KeyReused as error:
        raise Conflict(error.message, order_id=error.order_id) from error
    status = "PENDING"
    if result.replayed:
        state = await orders.load(result.order_id)
        status = state.data.status.value if state is not None else status
    return Accepted(order_id=result.order_id, status=status)


@router.get("/orders", summary="The caller's orders, newest first")
async def list_orders(
    user: CurrentUser,
    runtime: Runtime,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> Page[OrderSummary]:
    """A page of the caller's orders (a read model: it follows the store closely)."""
    after = _cursor_position(cursor) if cursor else None
    query = (
        "SELECT order_id, status, total, currency, placed_at FROM orders_by_user WHERE user_id = $1"
    )
    arguments: list[object] = [user.user_id]
    if after is not None:
        query += " AND (placed_at, order_id) < ($2, $3)"
        arguments += list(after)
    query += f" ORDER BY placed_at DESC, order_id DESC LIMIT {limit + 1}"
    async with runtime.recorder.pool.acquire() as connection:
        rows = await connection.fetch(query, *arguments)
    items = [OrderSummary(**dict(row)) for row in rows[:limit]]
    next_cursor = _cursor_of(items[-1]) if len(rows) > limit else None
    return Page[OrderSummary](items=items, next_cursor=next_cursor)


@router.get("/orders/{order_id}", summary="An order (as of a moment, with as_of)")
async def get_order(
    order_id: uuid.UUID,
    user: CurrentUser,
    runtime: Runtime,
    as_of: Annotated[str | None, Query(description="An ISO 8601 time")] = None,
) -> OrderOut:
    """The order as its stream says, now or as it was at ``as_of`` (time travel)."""
    until = _moment(as_of, "query.as_of") if as_of is not None else None
    state = await _visible(runtime, order_id, user, until=until)
    order = state.data
    reason = order.cancellation_reason
    return OrderOut(
        order_id=order.order_id,
        status=order.status.value,
        lines=[
            LineOut(sku=line.sku, quantity=line.quantity, unit_price=line.unit_price)
            for line in order.placed.lines
        ],
        total=order.total,
        currency=order.placed.currency.value,
        cancellation_reason=reason.value if reason is not None else None,
        timeline=_timeline(state.timeline),
    )


@router.post("/orders/{order_id}/cancel", status_code=202, summary="Cancel a pending order")
async def cancel_order(order_id: uuid.UUID, user: CurrentUser, runtime: Runtime) -> Accepted:
    """Run the compensations that apply now; 409 once the order is no longer cancellable."""
    await _visible(runtime, order_id, user)
    orders = orders_of(runtime)
    try:
        async with orders.store.transaction() as transaction:
            outcome = await orders.decide(transaction, order_id, CancelRequested())
    except NotCancellable as error:
        raise Conflict(error.message, order_id=order_id) from error
    if outcome is None:
        raise NotFound("order", order_id)
    return Accepted(order_id=order_id, status=outcome.state.data.status.value)


# -- sagas (admins) ---------------------------------------------------------------------------


@router.get("/sagas", tags=["sagas"], summary="Running, stuck or finished sagas")
async def list_sagas(
    admin: CurrentAdmin,
    runtime: Runtime,
    *,
    state: Literal["running", "stuck", "done"] | None = None,
    order_id: Annotated[
        str | None,
        Query(
            pattern=_ORDER_ID_PREFIX,
            description="The start of the order id, any case, hyphens optional",
        ),
    ] = None,
    older_than: Annotated[
        str | None, Query(description="Seconds, or an ISO 8601 time: started before it")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[SagaSummary]:
    """Sagas, oldest first; ``stuck``: running past their deadline (or, for a step without
    one, past its start) by more than ``ORDERS_STUCK_GRACE_S``."""
    now = datetime.datetime.now(datetime.UTC)
    grace = datetime.timedelta(seconds=orders_of(runtime).settings.stuck_grace)
    cutoff = _older_than(older_than, now) if older_than is not None else None
    # Compared without hyphens, so a prefix pasted from a hex id (uuid.hex) is found too;
    # the pattern admits no LIKE wildcards.
    prefix = order_id.replace("-", "").lower() + "%" if order_id is not None else None
    query = (
        "SELECT s.order_id, s.user_id, s.step, s.state, s.started_at, s.step_since, d.due_at,"
        " (s.state = 'running' AND coalesce(d.due_at, s.step_since) + $1 < $2) AS stuck"
        " FROM order_sagas s LEFT JOIN saga_deadlines d USING (order_id)"
        " WHERE ($3::timestamptz IS NULL OR s.started_at <= $3)"
        " AND ($4::text IS NULL OR replace(s.order_id::text, '-', '') LIKE $4)"
    )
    async with runtime.recorder.pool.acquire() as connection:
        rows = await connection.fetch(
            query + " ORDER BY s.started_at, s.order_id", grace, now, cutoff, prefix
        )
    found = []
    for row in rows:
        shown = "stuck" if row["stuck"] else row["state"]
        if state is not None and shown != state and not (state == "running" and row["stuck"]):
            continue
        fields = {k: row[k] for k in ("order_id", "user_id", "step", "started_at", "due_at")}
        found.append(SagaSummary(state=shown, step_since=row["step_since"], **fields))
    return found[:limit]


@router.get("/sagas/{order_id}", tags=["sagas"], summary="A saga's steps and timeline")
async def get_saga(order_id: uuid.UUID, admin: CurrentAdmin, runtime: Runtime) -> SagaOut:
    """Each step of the definition with its state, and every event of the saga in order:
    its ids, causation, step and fields."""
    orders = orders_of(runtime)
    state = await _visible(runtime, order_id, admin)
    deadline = await orders.deadline_of(order_id)
    last_runs: dict[str, StepRun] = {run.step: run for run in state.runs}
    steps = []
    for step in ORDER_SAGA.steps:
        run = last_runs.get(step.name)
        due = deadline[1] if deadline is not None and deadline[0] == step.name else None
        steps.append(
            StepOut(
                name=step.name,
                state=run.state if run is not None else "pending",
                started_by=step.started_by.__name__,
                waits_for=[reply.event.__name__ for reply in step.replies],
                compensation=step.compensation.__name__ if step.compensation else None,
                started_at=run.started_at if run is not None else None,
                ended_at=run.ended_at if run is not None else None,
                due_at=due,
            )
        )
    return SagaOut(
        order_id=order_id,
        status=state.data.status.value,
        step=state.step,
        steps=steps,
        timeline=[_saga_event(entry) for entry in state.timeline],
    )


@router.post(
    "/sagas/{order_id}/retry", status_code=202, tags=["sagas"], summary="Re-drive a stuck step"
)
async def retry_saga(order_id: uuid.UUID, admin: CurrentAdmin, runtime: Runtime) -> Redriven:
    """Publish the running step's command again, as it was (same event id), so a participant
    that never handled it (down, dead-lettered) does now, and one that did skips it."""
    state = await _visible(runtime, order_id, admin)
    run = state.current
    if run is None:
        raise Conflict("the saga has ended: nothing to re-drive", order_id=order_id)
    await runtime.bus.publish(run.command)
    envelope = run.command.envelope
    return Redriven(
        order_id=order_id,
        step=run.step,
        event_type=type(run.command).__name__,
        event_id=envelope.event_id,
    )


# -- helpers --------------------------------------------------------------------------------


async def _priced(runtime: ServiceRuntime, lines: list[LineIn]) -> tuple[list[OrderLine], Currency]:
    """The lines at the catalogue's prices, in one currency; a 422 naming each bad line."""
    async with runtime.recorder.pool.acquire() as connection:
        rows = await connection.fetch(
            "SELECT sku, price, currency FROM catalogue WHERE sku = ANY($1::text[])",
            [line.sku for line in lines],
        )
    catalogue = {row["sku"]: (row["price"], row["currency"]) for row in rows}
    errors: list[FieldError] = []
    priced: list[OrderLine] = []
    currencies: list[str] = []
    for index, line in enumerate(lines):
        found = catalogue.get(line.sku)
        if found is None:
            errors.append(
                FieldError(f"body.lines.{index}.sku", f"unknown sku {line.sku}", "unknown_sku")
            )
            continue
        price, currency = found
        if currencies and currency != currencies[0]:
            errors.append(
                FieldError(
                    f"body.lines.{index}.sku",
                    f"{line.sku} is priced in {currency}, the order in {currencies[0]}",
                    "currency_mismatch",
                )
            )
            continue
        currencies.append(currency)
        priced.append(OrderLine(sku=line.sku, quantity=line.quantity, unit_price=price))
    if errors:
        raise InvalidRequest("some lines cannot be ordered", errors)
    return priced, Currency(currencies[0])


async def _visible(
    runtime: ServiceRuntime,
    order_id: uuid.UUID,
    principal: Principal,
    *,
    until: datetime.datetime | None = None,
) -> SagaState[Order]:
    """The order's saga, if the caller may see it (its owner, or an admin); 404 otherwise."""
    state = await orders_of(runtime).load(order_id, until=until)
    if state is None or not (principal.is_admin or state.data.placed.user_id == principal.user_id):
        raise NotFound("order", order_id)
    return state


def _timeline(entries: tuple[TimelineEntry, ...]) -> list[TimelineOut]:
    return [TimelineOut(event_type=e.event_type, at=e.at, source=e.source) for e in entries]


def _saga_event(entry: TimelineEntry) -> SagaEventOut:
    return SagaEventOut(
        event_type=entry.event_type,
        at=entry.at,
        source=entry.source,
        event_id=entry.event_id,
        causation_id=entry.causation_id,
        correlation_id=entry.correlation_id,
        step=entry.step,
        data=event_data(entry.event),
    )


def _moment(raw: str, field: str) -> datetime.datetime:
    """An ISO 8601 time in UTC (taken as UTC when it names no offset); a 422 naming
    ``field`` otherwise."""
    try:
        return _in_utc(datetime.datetime.fromisoformat(raw))
    except (ValueError, OverflowError):
        raise InvalidRequest(
            f"{field} is not a time",
            [
                FieldError(
                    field,
                    "expected an ISO 8601 time within years 1 to 9999 in UTC,"
                    " e.g. 2030-01-31T12:00:00Z",
                    "datetime",
                )
            ],
        ) from None


def _in_utc(moment: datetime.datetime) -> datetime.datetime:
    """``moment`` in UTC (a naive one taken as UTC); :class:`OverflowError` when that leaves
    Python's calendar (year 1 at +01:00), which comparing or storing it would hit later."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC)


def _older_than(raw: str, now: datetime.datetime) -> datetime.datetime:
    try:
        return now - datetime.timedelta(seconds=float(raw))
    except ValueError:
        return _moment(raw, "query.older_than")
    except OverflowError:  # inf, or more seconds than the calendar holds
        raise InvalidRequest(
            "query.older_than is out of range",
            [FieldError("query.older_than", "a span within the calendar", "datetime")],
        ) from None


def _cursor_of(item: OrderSummary) -> str:
    text = f"{item.placed_at.isoformat()}|{item.order_id}"
    return base64.urlsafe_b64encode(text.encode()).decode()


def _cursor_position(cursor: str) -> tuple[datetime.datetime, uuid.UUID]:
    try:
        placed_at, order_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return _in_utc(datetime.datetime.fromisoformat(placed_at)), uuid.UUID(order_id)
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise InvalidRequest(
            "query.cursor is not a cursor of this list",
            [FieldError("query.cursor", "pass a next_cursor this list gave", "cursor")],
        ) from None
