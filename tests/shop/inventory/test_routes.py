"""The inventory's HTTP API: the catalogue, adding products and stock, access and errors."""

from __future__ import annotations

from evp.events import Currency, ProductAdded, StockAdded
from evp.web import Access, route_access
from tests.shop.inventory.conftest import Headers, StartInventory
from tests.shop.inventory.support import add_product, stored

BOOK = {"sku": "BOOK-1", "name": "A book", "price": "19.99", "currency": "EUR", "stock": 5}


async def test_an_admin_adds_a_product_and_anyone_reads_it(
    inventory: StartInventory, admin: Headers
) -> None:
    """POST /products answers 201 with the product, which GET /products/{sku} shows."""
    async with inventory(assigned=False) as service:
        created = await service.http.post("/products", json=BOOK, headers=admin)
        read = await service.http.get("/products/BOOK-1")
    expected = {"sku": "BOOK-1", "name": "A book", "price": "19.99", "currency": "EUR"}
    assert created.status_code == 201
    assert created.json() == {**expected, "available": 5}
    assert read.status_code == 200
    assert read.json() == created.json()


async def test_adding_a_product_stores_product_added_and_its_first_stock(
    inventory: StartInventory, admin: Headers
) -> None:
    """The product's stream holds ProductAdded, then StockAdded caused by it."""
    async with inventory(assigned=False) as service:
        await service.http.post("/products", json=BOOK, headers=admin)
        (added,) = await stored(service, ProductAdded)
        (stock,) = await stored(service, StockAdded)
    assert (added.sku, added.name, str(added.price), added.currency) == (
        "BOOK-1",
        "A book",
        "19.99",
        Currency.EUR,
    )
    assert (stock.sku, stock.quantity, stock.on_hand) == ("BOOK-1", 5, 5)
    assert stock.envelope.causation_id == added.envelope.event_id


async def test_a_product_without_stock_stores_no_stock_added(
    inventory: StartInventory, admin: Headers
) -> None:
    """A product added with no stock is in the catalogue with nothing available."""
    async with inventory(assigned=False) as service:
        created = await service.http.post("/products", json={**BOOK, "stock": 0}, headers=admin)
        stock = await stored(service, StockAdded)
    assert created.json()["available"] == 0
    assert stock == []


async def test_a_taken_sku_is_a_409(inventory: StartInventory, admin: Headers) -> None:
    """Adding a product whose SKU exists conflicts, and stores nothing more."""
    async with inventory(assigned=False) as service:
        await service.http.post("/products", json=BOOK, headers=admin)
        again = await service.http.post("/products", json={**BOOK, "name": "Other"}, headers=admin)
        added = await stored(service, ProductAdded)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert len(added) == 1


async def test_a_bad_product_names_every_bad_field(
    inventory: StartInventory, admin: Headers
) -> None:
    """A 422 names the SKU, name, price, currency and stock that are not acceptable."""
    bad = {"sku": "no spaces", "name": " ", "price": "0.00", "currency": "XXX", "stock": -1}
    async with inventory(assigned=False) as service:
        response = await service.http.post("/products", json=bad, headers=admin)
    fields = {error["field"] for error in response.json()["errors"]}
    assert response.status_code == 422
    assert fields == {"body.sku", "body.name", "body.price", "body.currency", "body.stock"}


async def test_a_price_with_more_than_two_places_is_a_422(
    inventory: StartInventory, admin: Headers
) -> None:
    """Money has at most two decimal places."""
    async with inventory(assigned=False) as service:
        response = await service.http.post(
            "/products", json={**BOOK, "price": "1.999"}, headers=admin
        )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["body.price"]


async def test_a_customer_may_not_add_a_product(
    inventory: StartInventory, customer: Headers
) -> None:
    """POST /products is for admins: a customer gets 403."""
    async with inventory(assigned=False) as service:
        response = await service.http.post("/products", json=BOOK, headers=customer)
    assert response.status_code == 403


async def test_adding_a_product_needs_a_token(inventory: StartInventory) -> None:
    """POST /products without a bearer token is a 401."""
    async with inventory(assigned=False) as service:
        response = await service.http.post("/products", json=BOOK)
    assert response.status_code == 401


async def test_an_unknown_product_is_a_404(inventory: StartInventory) -> None:
    """GET /products/{sku} of no product answers 404 as a problem."""
    async with inventory(assigned=False) as service:
        response = await service.http.get("/products/NOPE")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_the_catalogue_lists_products_newest_first_in_pages(
    inventory: StartInventory, admin: Headers
) -> None:
    """GET /products pages through every product, newest first, with a cursor."""
    async with inventory(assigned=False) as service:
        for sku in ("A-1", "B-2", "C-3"):
            await add_product(service, admin, sku, stock=1)
        first = (await service.http.get("/products", params={"limit": 2})).json()
        second = (
            await service.http.get("/products", params={"limit": 2, "cursor": first["next_cursor"]})
        ).json()
    assert [p["sku"] for p in first["items"]] == ["C-3", "B-2"]
    assert [p["sku"] for p in second["items"]] == ["A-1"]
    assert second["next_cursor"] is None
    assert first["items"][0] == {
        "sku": "C-3",
        "name": "Product C-3",
        "price": "10.00",
        "currency": "EUR",
        "available": 1,
    }


async def test_an_empty_catalogue_is_an_empty_page(inventory: StartInventory) -> None:
    """GET /products with no products is one empty last page."""
    async with inventory(assigned=False) as service:
        response = await service.http.get("/products")
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


async def test_a_cursor_the_list_did_not_give_is_a_422(inventory: StartInventory) -> None:
    """GET /products?cursor=... with a made-up cursor names the cursor."""
    async with inventory(assigned=False) as service:
        response = await service.http.get("/products", params={"cursor": "abc"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["query.cursor"]


async def test_an_admin_adds_stock(inventory: StartInventory, admin: Headers) -> None:
    """POST /products/{sku}/stock makes the units available and stores StockAdded."""
    async with inventory(assigned=False) as service:
        await add_product(service, admin, "BOOK-1", stock=2)
        response = await service.http.post(
            "/products/BOOK-1/stock", json={"quantity": 3}, headers=admin
        )
        added = await stored(service, StockAdded)
    assert response.status_code == 200
    assert response.json()["available"] == 5
    assert [(e.quantity, e.on_hand) for e in added] == [(2, 2), (3, 5)]


async def test_stock_of_an_unknown_product_is_a_404(
    inventory: StartInventory, admin: Headers
) -> None:
    """Adding stock to no product answers 404 and stores nothing."""
    async with inventory(assigned=False) as service:
        response = await service.http.post(
            "/products/NOPE/stock", json={"quantity": 3}, headers=admin
        )
        added = await stored(service, StockAdded)
    assert response.status_code == 404
    assert added == []


async def test_stock_must_be_a_positive_quantity(inventory: StartInventory, admin: Headers) -> None:
    """A quantity of zero is a 422 naming it."""
    async with inventory(assigned=False) as service:
        await add_product(service, admin, "BOOK-1")
        response = await service.http.post(
            "/products/BOOK-1/stock", json={"quantity": 0}, headers=admin
        )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["body.quantity"]


async def test_a_customer_may_not_add_stock(
    inventory: StartInventory, admin: Headers, customer: Headers
) -> None:
    """POST /products/{sku}/stock is for admins: a customer gets 403."""
    async with inventory(assigned=False) as service:
        await add_product(service, admin, "BOOK-1")
        response = await service.http.post(
            "/products/BOOK-1/stock", json={"quantity": 1}, headers=customer
        )
    assert response.status_code == 403


async def test_adding_stock_needs_a_token(inventory: StartInventory) -> None:
    """POST /products/{sku}/stock without a bearer token is a 401."""
    async with inventory(assigned=False) as service:
        response = await service.http.post("/products/BOOK-1/stock", json={"quantity": 1})
    assert response.status_code == 401


async def test_routes_declare_their_access(inventory: StartInventory) -> None:
    """The catalogue is public; adding products and stock is for admins."""
    async with inventory(assigned=False) as service:
        access = route_access(service.app)
    assert access[("GET", "/products")] is Access.PUBLIC
    assert access[("GET", "/products/{sku}")] is Access.PUBLIC
    assert access[("POST", "/products")] is Access.ADMIN
    assert access[("POST", "/products/{sku}/stock")] is Access.ADMIN


async def test_a_page_size_out_of_range_is_a_422(inventory: StartInventory) -> None:
    """GET /products?limit=0 names the limit."""
    async with inventory(assigned=False) as service:
        response = await service.http.get("/products", params={"limit": 0})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["query.limit"]
