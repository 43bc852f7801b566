"""Every route that is not public needs a valid token, on every service, route by route.

The routes are enumerated from the running apps (:mod:`tests.shop.security.surface`), not
sampled: a route added without an access level fails the allow-list, and a protected one
that lets a bad token through fails the refusal tests. The control test shows the same
calls with a good token get past authentication, so the refusals are the token's doing.
"""

from __future__ import annotations

import httpx
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Route

from evp.web.auth import Access
from tests.shop.running import Shop
from tests.shop.security import forged
from tests.shop.security.surface import Endpoint, call, endpoints

EVERY_SERVICE = ("users", "inventory", "payments", "orders", "notifications", "analytics")
KIT_ROUTES = {
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("HEAD", "/openapi.json"),
    ("GET", "/docs"),
    ("HEAD", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("HEAD", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    ("HEAD", "/redoc"),
    ("GET", "/asyncapi.json"),
}
PUBLIC_ROUTES = {
    *((service, method, path) for service in EVERY_SERVICE for method, path in KIT_ROUTES),
    ("users", "GET", "/.well-known/jwks.json"),
    ("users", "POST", "/users"),
    ("users", "POST", "/auth/token"),
    ("inventory", "GET", "/products"),
    ("inventory", "GET", "/products/{sku}"),
}
"""Everything anyone may call without a token; a route missing here must declare its access."""

INVALID_TOKEN = 'Bearer error="invalid_token"'


def _refusals(answers: dict[Endpoint, httpx.Response], challenge: str) -> dict[str, object]:
    """The endpoints whose answer is not a 401 with ``challenge``, and what they answered."""
    return {
        str(endpoint): (answer.status_code, answer.headers.get("www-authenticate"))
        for endpoint, answer in answers.items()
        if (answer.status_code, answer.headers.get("www-authenticate")) != (401, challenge)
    }


async def _answers(shop: Shop, headers: dict[str, str] | None) -> dict[Endpoint, httpx.Response]:
    protected = endpoints(shop, Access.USER, Access.ADMIN)
    assert protected, "no protected route was enumerated"
    return {endpoint: await call(shop, endpoint, headers) for endpoint in protected}


async def test_the_public_routes_are_exactly_the_allow_list(shop: Shop) -> None:
    """The routes that declare no access level are the allow-list, and every route the apps
    serve is one route_access sees (no mount or websocket slips past it)."""
    public = {(e.service, e.method, e.template) for e in endpoints(shop, Access.PUBLIC)}
    unseen = [
        f"{name}: {context.original_route!r}"
        for name, service in shop.services.items()
        for context in iter_route_contexts(service.app.routes)
        if not isinstance(context.original_route, APIRoute | Route)
    ]
    assert sorted(public) == sorted(PUBLIC_ROUTES)
    assert unseen == []


async def test_a_valid_token_gets_past_authentication_where_its_role_may_go(shop: Shop) -> None:
    """The admin's token passes every route's check and the customer's every user route's:
    no 401 or 403, and no 5xx for the filled-in paths."""
    everyone = {e: await call(shop, e, shop.admin) for e in endpoints(shop)}
    users = endpoints(shop, Access.PUBLIC, Access.USER)
    everyone.update({e: await call(shop, e, shop.customer) for e in users})
    refused = {
        str(endpoint): answer.status_code
        for endpoint, answer in everyone.items()
        if answer.status_code in (401, 403) or answer.status_code >= 500
    }
    assert refused == {}


async def test_every_protected_route_without_a_token_is_401_asking_for_a_bearer(
    shop: Shop,
) -> None:
    """No Authorization header: 401 with ``WWW-Authenticate: Bearer``, on every route."""
    answers = await _answers(shop, None)
    assert _refusals(answers, "Bearer") == {}


async def test_every_protected_route_refuses_a_token_signed_with_another_key(
    shop: Shop,
) -> None:
    """The customer's claims signed with a fresh Ed25519 key, naming the real key id or
    its own: 401 invalid_token on every route."""
    claims = forged.claims_of(shop.customer)
    real_kid = forged.header_of(shop.customer)["kid"]
    for kid in (real_kid, None):
        token = forged.signed_with_another_key(claims, kid=kid)
        answers = await _answers(shop, forged.bearer(token))
        assert _refusals(answers, INVALID_TOKEN) == {}, f"kid={kid}"


async def test_every_protected_route_refuses_a_token_not_signed_with_eddsa(shop: Shop) -> None:
    """The customer's claims under ``alg: none`` (no signature) or under HS256 keyed with
    the published public key: 401 invalid_token on every route."""
    claims = forged.claims_of(shop.customer)
    kid = forged.header_of(shop.customer)["kid"]
    tokens = {
        "none": forged.unsigned(claims, kid=kid),
        "HS256": forged.keyed_with_the_public_key(claims, kid=kid, users=shop.users),
    }
    for algorithm, token in tokens.items():
        answers = await _answers(shop, forged.bearer(token))
        assert _refusals(answers, INVALID_TOKEN) == {}, algorithm


async def test_every_protected_route_refuses_an_expired_token(shop: Shop) -> None:
    """The admin's claims signed with the users service's own key but expired an hour ago:
    401 invalid_token on every route, while the same token signed now passes."""
    claims = forged.claims_of(shop.admin)
    fresh = await call(
        shop,
        Endpoint("users", "GET", "/users/me", Access.USER),
        forged.bearer(forged.reissued(shop.users, claims)),
    )
    answers = await _answers(shop, forged.bearer(forged.expired(shop.users, claims)))
    assert fresh.status_code == 200
    assert _refusals(answers, INVALID_TOKEN) == {}


async def test_every_admin_route_is_403_to_a_customer(shop: Shop) -> None:
    """A customer's valid token on an admin route: 403, on every admin route."""
    admin_only = endpoints(shop, Access.ADMIN)
    answers = {str(e): (await call(shop, e, shop.customer)).status_code for e in admin_only}
    assert admin_only
    assert {name: status for name, status in answers.items() if status != 403} == {}
