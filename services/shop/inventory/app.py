"""The inventory service: products, stock levels, and the holds the order saga places."""

from __future__ import annotations

from evp.events import (
    OrderPlaced,
    ProductAdded,
    StockAdded,
    StockHeld,
    StockReleased,
    StockReleaseRequested,
    StockReservationFailed,
    StockReservationRequested,
    StockReserved,
)
from evp.service import Service, ServiceRuntime
from shop.inventory import handlers, routes, tables
from shop.inventory.settings import InventorySettings

__all__ = ["service"]

service = Service(
    "inventory",
    publishes=(
        ProductAdded,
        StockAdded,
        StockHeld,
        StockReservationFailed,
        StockReserved,
        StockReleased,
    ),
    description=(
        "Products and their stock: holds each order's stock until it pays; never oversells."
    ),
)


@service.on_startup
async def load_settings(runtime: ServiceRuntime) -> None:
    """Read ``INVENTORY_*`` once, before any handler or the expiry task needs it."""
    runtime.state["settings"] = InventorySettings.from_env()


service.migrate("inventory", tables.MIGRATIONS)
service.handles(OrderPlaced, retries=5, timeout=10)(handlers.on_order_placed)
service.handles(StockReservationRequested, retries=5, timeout=10)(handlers.on_reservation_requested)
service.handles(StockReleaseRequested, retries=5, timeout=10)(handlers.on_release_requested)
service.background(handlers.expire_holds)
service.include(routes.router)
