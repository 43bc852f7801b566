"""The inventory's tables refuse oversold stock even if the code let it through."""

from __future__ import annotations

import asyncpg
import pytest

from tests.shop.inventory.conftest import Headers, StartInventory
from tests.shop.inventory.support import add_product


async def test_the_products_table_refuses_to_hold_more_than_was_added(
    inventory: StartInventory, admin: Headers
) -> None:
    """The CHECK constraint is the last line of defence: available never goes negative."""
    async with inventory(assigned=False) as service:
        await add_product(service, admin, "BOOK-1", stock=3)
        async with service.runtime.recorder.pool.acquire() as connection:
            with pytest.raises(asyncpg.CheckViolationError, match="products_never_oversold"):
                await connection.execute("UPDATE products SET held = 4 WHERE sku = 'BOOK-1'")
