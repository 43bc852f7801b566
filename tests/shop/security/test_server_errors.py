"""Odd but well-formed input is the caller's mistake (a 4xx), never a 500.

Two kinds found by probing every route: a NUL character in a string that reaches a
Postgres text column (Postgres refuses it, and the driver's error became a 500, on
public routes too), and a time whose UTC form falls outside Python's calendar
(year 1 at +01:00, year 9999 at -23:00), which overflowed once compared or converted.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from tests.shop.running import Shop

NUL = "A\x00B"
LINE: dict[str, Any] = {"sku": "BOOK-1", "quantity": 1}
PAYMENT = {"token": "tok_ok"}
BEFORE_YEAR_ONE_IN_UTC = "0001-01-01T00:00:00+01:00"
AFTER_YEAR_9999_IN_UTC = "9999-12-31T23:59:59-23:00"


def _cursor(text: str, *, padded: bool) -> str:
    encoded = base64.urlsafe_b64encode(text.encode()).decode()
    return encoded if padded else encoded.rstrip("=")


async def _statuses(
    shop: Shop, probes: dict[str, tuple[str, str, str, dict[str, str], Any]]
) -> dict[str, int]:
    """Each probe's status: (service, method, path, headers, JSON body or None)."""
    found = {}
    for label, (service, method, path, headers, body) in probes.items():
        http = shop.services[service].http
        response = await http.request(method, path, headers=headers, json=body)
        found[label] = response.status_code
    return found


async def test_a_nul_character_in_a_string_is_a_4xx_not_a_500(shop: Shop) -> None:
    """A NUL in a SKU, an email, a name or a payment token is refused with 404 or 422,
    on public, customer and admin routes alike."""
    await shop.add_product(LINE["sku"], stock=5)
    await shop.order_once_priced([(LINE["sku"], 1)])  # orders knows its price: tokens are read
    anyone: dict[str, str] = {}
    product = {"sku": "NUL-1", "name": NUL, "price": "1.00", "currency": "EUR", "stock": 1}
    probes = {
        "product by sku": ("inventory", "GET", "/products/A%00B", anyone, None),
        "stock by sku": (
            "inventory",
            "POST",
            "/products/A%00B/stock",
            shop.admin,
            {"quantity": 1},
        ),
        "product name": ("inventory", "POST", "/products", shop.admin, product),
        "login email": (
            "users",
            "POST",
            "/auth/token",
            anyone,
            {"email": NUL, "password": "a password"},
        ),
        "register email": (
            "users",
            "POST",
            "/users",
            anyone,
            {"email": "a\x00b@example.com", "password": "a long password", "name": "Ada"},
        ),
        "change email": (
            "users",
            "PATCH",
            "/users/me",
            shop.customer,
            {"email": "a\x00b@example.com"},
        ),
        "order sku": (
            "orders",
            "POST",
            "/orders",
            shop.customer,
            {"lines": [{**LINE, "sku": NUL}], "payment": PAYMENT},
        ),
        "payment token": (
            "orders",
            "POST",
            "/orders",
            shop.customer,
            {"lines": [LINE], "payment": {"token": NUL}},
        ),
    }
    statuses = await _statuses(shop, probes)
    assert {label: s for label, s in statuses.items() if s not in (404, 422)} == {}


async def test_a_time_outside_the_calendar_in_utc_is_422_not_a_500(shop: Shop) -> None:
    """``as_of``, ``older_than`` and the list cursors holding a time that leaves years 1 to
    9999 once in UTC, or a span longer than the calendar, are 422s."""
    order_id = uuid.uuid4()
    probes: dict[str, tuple[str, str, str, dict[str, str], Any]] = {}
    for moment in (BEFORE_YEAR_ONE_IN_UTC, AFTER_YEAR_9999_IN_UTC):
        query = moment.replace("+", "%2B")
        probes |= {
            f"as_of {moment}": (
                "orders",
                "GET",
                f"/orders/{order_id}?as_of={query}",
                shop.customer,
                None,
            ),
            f"orders cursor {moment}": (
                "orders",
                "GET",
                f"/orders?cursor={_cursor(f'{moment}|{order_id}', padded=True)}",
                shop.customer,
                None,
            ),
            f"notifications cursor {moment}": (
                "notifications",
                "GET",
                f"/notifications?cursor={_cursor(f'{moment}|{order_id}', padded=False)}",
                shop.customer,
                None,
            ),
            f"older_than {moment}": (
                "orders",
                "GET",
                f"/sagas?older_than={query}",
                shop.admin,
                None,
            ),
        }
    for span in ("1e300", "inf", "-inf", "100000000000000", "-100000000000000"):
        probes[f"older_than {span}"] = (
            "orders",
            "GET",
            f"/sagas?older_than={span}",
            shop.admin,
            None,
        )
    statuses = await _statuses(shop, probes)
    assert {label: s for label, s in statuses.items() if s != 422} == {}
