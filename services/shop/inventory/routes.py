"""The inventory's HTTP API: the catalogue for everyone, products and stock for admins."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, StringConstraints

from evp.avro import Event
from evp.events import Currency, ProductAdded, StockAdded
from evp.service import ServiceRuntime, current_runtime
from evp.web import Conflict, FieldError, InvalidRequest, NotFound, require_admin
from shop.api import NO_NUL, Money, Page
from shop.inventory import tables
from shop.inventory.domain import InvalidQuantity, Inventory
from shop.inventory.handlers import SOURCE
from shop.inventory.tables import Product

__all__ = ["ProductIn", "ProductOut", "StockIn", "router"]

Runtime = Annotated[ServiceRuntime, Depends(current_runtime)]

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
MAX_UNITS_PER_REQUEST = 1_000_000

Sku = Annotated[str, Field(pattern=SKU_PATTERN, examples=["BOOK-1"])]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_NUL),
]


class ProductIn(BaseModel):
    """A product to add to the catalogue, with its first stock."""

    sku: Sku
    name: Name
    price: Annotated[Money, Field(gt=0)]
    currency: Currency
    stock: int = Field(default=0, ge=0, le=MAX_UNITS_PER_REQUEST)


class StockIn(BaseModel):
    """Units of a product that arrived."""

    quantity: int = Field(gt=0, le=MAX_UNITS_PER_REQUEST)


class ProductOut(BaseModel):
    """A product of the catalogue and how many units anyone may order now."""

    sku: str
    name: str
    price: Money
    currency: Currency
    available: int

    @classmethod
    def of(cls, product: Product) -> ProductOut:
        """The API's view of a stored product."""
        return cls(
            sku=product.sku,
            name=product.name,
            price=product.price,
            currency=product.currency,
            available=product.available,
        )


router = APIRouter(tags=["inventory"])


@router.get("/products", summary="The catalogue, newest first")
async def list_products(
    runtime: Runtime,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the page before")] = None,
) -> Page[ProductOut]:
    """One page of products with the units available now."""
    before = _position(cursor)
    async with runtime.recorder.pool.acquire() as connection:
        found = await tables.product_page(connection, before=before, limit=limit + 1)
    items = found[:limit]
    more = len(found) > limit
    return Page[ProductOut](
        items=[ProductOut.of(p) for p in items],
        next_cursor=str(items[-1].position) if more else None,
    )


@router.get("/products/{sku}", summary="One product")
async def get_product(sku: str, runtime: Runtime) -> ProductOut:
    """The product with the units available now; 404 when there is none."""
    _check_sku(sku)
    async with runtime.recorder.pool.acquire() as connection:
        found = await tables.product(connection, sku)
    if found is None:
        raise NotFound("product", sku)
    return ProductOut.of(found)


@router.post(
    "/products",
    status_code=201,
    dependencies=[Depends(require_admin)],
    summary="Add a product (admins)",
)
async def add_product(body: ProductIn, runtime: Runtime) -> ProductOut:
    """Store the product with ``ProductAdded`` (and ``StockAdded`` for its first stock);
    409 when the SKU is taken."""
    added = ProductAdded.new(
        sku=body.sku, name=body.name, price=body.price, currency=body.currency, source=SOURCE
    )
    events: list[Event] = [added]
    if body.stock:
        events.append(
            StockAdded.new(
                sku=body.sku,
                quantity=body.stock,
                on_hand=body.stock,
                source=SOURCE,
                caused_by=added,
            )
        )
    async with runtime.store.transaction() as transaction:
        product = await tables.insert_product(
            transaction.connection,
            sku=body.sku,
            name=body.name,
            price=body.price,
            currency=body.currency,
            stock=body.stock,
            stream_version=len(events),
        )
        if product is None:
            raise Conflict(f"product {body.sku} exists already", sku=body.sku)
        await runtime.store.append(
            tables.product_stream(body.sku), events, expected_version=0, transaction=transaction
        )
    return ProductOut.of(product)


@router.post(
    "/products/{sku}/stock",
    dependencies=[Depends(require_admin)],
    summary="Add stock to a product (admins)",
)
async def add_stock(sku: str, body: StockIn, runtime: Runtime) -> ProductOut:
    """``quantity`` more units, available at once (``StockAdded``); 404 for an unknown SKU."""
    _check_sku(sku)
    async with runtime.store.transaction() as transaction:
        connection = transaction.connection
        locked = await tables.lock_product(connection, sku)
        if locked is None:
            raise NotFound("product", sku)
        level, version = locked
        inventory = Inventory([level])
        try:
            level = inventory.add_stock(sku, body.quantity)
        except InvalidQuantity as error:
            raise InvalidRequest(
                "the stock cannot be added",
                [FieldError("body.quantity", error.reason, "value_error")],
            ) from error
        await tables.save_levels(connection, [level])
        await tables.save_product_version(connection, sku, version + 1)
        added = StockAdded.new(sku=sku, quantity=body.quantity, on_hand=level.added, source=SOURCE)
        await runtime.store.append(
            tables.product_stream(sku), [added], expected_version=version, transaction=transaction
        )
        product = await tables.product(connection, sku)
    assert product is not None  # its row is locked by this very transaction
    return ProductOut.of(product)


def _check_sku(sku: str) -> None:
    """404 for a path SKU no product can have, before it reaches the database (a NUL in it
    would fail the query)."""
    if re.fullmatch(SKU_PATTERN, sku) is None:
        raise NotFound("product", sku)


def _position(cursor: str | None) -> int | None:
    """The catalogue position a page's cursor names; 422 for anything else."""
    if cursor is None:
        return None
    if not cursor.isdigit() or len(cursor) > 18:
        raise InvalidRequest(
            "the cursor is not one this list gave",
            [FieldError("query.cursor", "not a cursor of this list", "value_error")],
        )
    return int(cursor)
