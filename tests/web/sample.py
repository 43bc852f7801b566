"""A small service built with the kit: public, user and admin routes, a validated body,
and routes that raise each kind of error."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Response
from pydantic import BaseModel, Field

from evp.eventstore.errors import ConcurrencyError
from evp.metrics import ServiceMetrics
from evp.web import (
    CurrentAdmin,
    CurrentUser,
    NotFound,
    RateLimited,
    Readiness,
    TokenVerifier,
    require_admin,
    web_app,
)

ISSUER = "https://users.shop.test"
AUDIENCE = "shop"
SECRET_IN_ERROR = "password=hunter2 at db.internal:5432"


class OrderLine(BaseModel):
    """One line of an order."""

    sku: str = Field(min_length=1)
    quantity: int = Field(gt=0)


class NewOrder(BaseModel):
    """An order as posted."""

    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    lines: list[OrderLine]


router = APIRouter()


@router.get("/catalog/{sku}")
async def product(sku: str) -> dict[str, str]:
    return {"sku": sku}


@router.post("/catalog/echo")
async def echo(body: dict[str, Any]) -> dict[str, int]:
    return {"keys": len(body)}


@router.post("/orders", status_code=201)
async def place_order(order: NewOrder, user: CurrentUser) -> dict[str, Any]:
    return {"user_id": str(user.user_id), "lines": len(order.lines)}


@router.get("/orders/{order_id}")
async def get_order(order_id: uuid.UUID, user: CurrentUser) -> dict[str, str]:
    raise NotFound("order", order_id)


@router.get("/admin/stats")
async def stats(admin: CurrentAdmin) -> dict[str, str]:
    return {"admin": admin.email}


@router.delete("/admin/orders/{order_id}", dependencies=[Depends(require_admin)], status_code=204)
async def delete_order(order_id: uuid.UUID) -> Response:
    return Response(status_code=204)


@router.post("/streams/{stream_id}")
async def append(stream_id: str) -> None:
    raise ConcurrencyError(stream_id, expected_version=3, actual_version=4)


@router.get("/limited")
async def limited() -> None:
    raise RateLimited("too many requests from this client", retry_after=7)


@router.get("/boom")
async def boom() -> None:
    raise RuntimeError(SECRET_IN_ERROR)


def sample_app(
    verifier: TokenVerifier | None,
    *,
    metrics: ServiceMetrics | None = None,
    readiness: Readiness | None = None,
    max_body_bytes: int = 1024,
) -> FastAPI:
    """The sample service's app."""
    return web_app(
        title="sample",
        version="1.2.3",
        routers=[router],
        metrics=metrics or ServiceMetrics("sample"),
        readiness=readiness or Readiness(),
        verifier=verifier,
        max_body_bytes=max_body_bytes,
    )
