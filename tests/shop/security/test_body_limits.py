"""Request bodies over the size cap are refused with 413 on every route that takes a body.

The routes are enumerated from the running apps; each is sent one byte over its service's
cap (``EVP_MAX_BODY_BYTES``), once with a declared Content-Length and once streamed in
chunks with none, with the admin's token so that only the size can refuse it. A body of
exactly the cap is the control: it reaches the route.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from tests.shop.running import Shop
from tests.shop.security.surface import BODY_METHODS, Endpoint, endpoints

CHUNK = 64 * 1024


def _padded(size: int) -> bytes:
    """``{}`` and spaces: a JSON body of exactly ``size`` bytes."""
    return b"{}" + b" " * (size - 2)


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), CHUNK):
        yield body[start : start + CHUNK]


def _cap(shop: Shop, endpoint: Endpoint) -> int:
    return shop.services[endpoint.service].runtime.settings.max_body_bytes


async def test_a_body_over_the_cap_is_413_on_every_route_that_takes_one(shop: Shop) -> None:
    """One byte over the cap, declared or streamed: 413 problem; exactly the cap: not 413."""
    routes = [e for e in endpoints(shop) if e.method in BODY_METHODS]
    headers = {**shop.admin, "Content-Type": "application/json"}
    wrong: dict[str, object] = {}
    for endpoint in routes:
        http = shop.services[endpoint.service].http
        cap = _cap(shop, endpoint)
        declared = await http.request(
            endpoint.method, endpoint.path, content=_padded(cap + 1), headers=headers
        )
        streamed = await http.request(
            endpoint.method, endpoint.path, content=_chunks(_padded(cap + 1)), headers=headers
        )
        at_cap = await http.request(
            endpoint.method, endpoint.path, content=_padded(cap), headers=headers
        )
        answers = (
            declared.status_code,
            declared.headers.get("content-type"),
            streamed.status_code,
            at_cap.status_code == 413,
        )
        if answers != (413, "application/problem+json", 413, False):
            wrong[str(endpoint)] = answers
    assert routes, "no route with a body was enumerated"
    assert wrong == {}
