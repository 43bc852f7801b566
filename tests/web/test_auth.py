"""Bearer tokens: issued and verified into a Principal, refused with 401/403, declared per route."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from evp.registry.server import BackgroundServer
from evp.web import (
    Access,
    KeySet,
    MissingVerifier,
    Principal,
    Role,
    SigningKey,
    TokenIssuer,
    TokenVerifier,
    Unauthorized,
    Unavailable,
    jwks_router,
    route_access,
)
from evp.web.auth import JWKS_PATH, RemoteJwks
from tests.web.conftest import bearer
from tests.web.sample import AUDIENCE, ISSUER, sample_app

USER_ID = uuid.UUID("6f1c1a52-5d0e-4c8e-9a37-0b7d3b7f2a11")


def token_from(issuer: TokenIssuer, role: Role = Role.CUSTOMER) -> str:
    """A token for USER_ID with ``role``."""
    return issuer.issue(USER_ID, "ada@shop.test", role).access_token


def refused(error: pytest.ExceptionInfo[Unauthorized]) -> str:
    """The reason an Unauthorized gives."""
    return error.value.reason


# --- keys ---------------------------------------------------------------------------------


def test_key_round_trips_through_pem(tmp_path: Path) -> None:
    """A key saved as PEM loads back with the same kid, readable by its owner only."""
    key = SigningKey.generate()
    key.save(tmp_path / "users.pem")
    loaded = SigningKey.load(tmp_path / "users.pem")
    assert loaded.kid == key.kid
    assert loaded.public_jwk() == key.public_jwk()
    assert (tmp_path / "users.pem").stat().st_mode & 0o077 == 0


def test_jwks_router_serves_the_document(keys: KeySet) -> None:
    """jwks_router answers GET /.well-known/jwks.json with the key set's public keys."""
    app = FastAPI()
    app.include_router(jwks_router(keys))
    with TestClient(app) as client:
        response = client.get("/.well-known/jwks.json")
    assert response.json() == keys.jwks_document()


def test_jwks_document_holds_public_halves_only() -> None:
    """The JWKS document lists each key's public JWK, with kid and algorithm, and no ``d``."""
    keys = KeySet([SigningKey.generate(), SigningKey.generate()])
    document = keys.jwks_document()
    assert [jwk["kid"] for jwk in document["keys"]] == [k.kid for k in keys.keys]
    assert all(jwk["alg"] == "EdDSA" and "d" not in jwk for jwk in document["keys"])


# --- verification ---------------------------------------------------------------------------


async def test_valid_token_gives_the_principal(
    issuer: TokenIssuer, verifier: TokenVerifier
) -> None:
    """A token the users service issued verifies into its typed claims."""
    principal = await verifier.verify(token_from(issuer, Role.ADMIN))
    assert principal == Principal(USER_ID, "ada@shop.test", Role.ADMIN)
    assert principal.is_admin


async def test_expired_token_is_refused(keys: KeySet, verifier: TokenVerifier) -> None:
    """A token past its expiry (and the leeway) is refused as expired."""
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    old = TokenIssuer(keys, issuer=ISSUER, audience=AUDIENCE, clock=lambda: an_hour_ago)
    with pytest.raises(Unauthorized) as error:
        await verifier.verify(token_from(old))
    assert refused(error) == "the bearer token has expired"


async def test_wrong_signature_is_refused(keys: KeySet, verifier: TokenVerifier) -> None:
    """A token signed by another key under a known kid is refused as a bad signature."""
    impostor = SigningKey(SigningKey.generate().private_key, kid=keys.current.kid)
    forged = TokenIssuer(KeySet([impostor]), issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(Unauthorized) as error:
        await verifier.verify(token_from(forged))
    assert refused(error) == "the bearer token's signature does not verify"


async def test_wrong_audience_is_refused(keys: KeySet, verifier: TokenVerifier) -> None:
    """A token meant for another audience is refused."""
    other = TokenIssuer(keys, issuer=ISSUER, audience="another-shop")
    with pytest.raises(Unauthorized) as error:
        await verifier.verify(token_from(other))
    assert refused(error) == "the bearer token is meant for another audience"


async def test_unknown_kid_is_refused(verifier: TokenVerifier) -> None:
    """A token signed by a key the set does not hold is refused as an unknown key."""
    stranger = TokenIssuer(KeySet.generate(), issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(Unauthorized) as error:
        await verifier.verify(token_from(stranger))
    assert refused(error) == "the bearer token is signed with an unknown key"


async def test_garbage_is_refused_as_malformed(verifier: TokenVerifier) -> None:
    """A bearer value that is not a JWT is refused as malformed."""
    with pytest.raises(Unauthorized) as error:
        await verifier.verify("not-a-jwt")
    assert refused(error) == "the bearer token is not a well-formed JWT"


async def test_old_key_still_verifies_after_rotation(keys: KeySet) -> None:
    """After a rotation, tokens signed by the previous key still verify."""
    rotated = KeySet([SigningKey.generate(), *keys.keys])
    verifier = TokenVerifier.local(rotated, issuer=ISSUER, audience=AUDIENCE)
    old_token = token_from(TokenIssuer(keys, issuer=ISSUER, audience=AUDIENCE))
    assert (await verifier.verify(old_token)).user_id == USER_ID


# --- routes -----------------------------------------------------------------------------------


def test_user_route_accepts_a_valid_token(client: TestClient, issuer: TokenIssuer) -> None:
    """A user route answers a caller with a valid token, who is its Principal."""
    order = {"email": "ada@shop.test", "lines": [{"sku": "sku-1", "quantity": 2}]}
    response = client.post("/orders", json=order, headers=bearer(issuer))
    assert response.status_code == 201
    assert response.json()["lines"] == 1


def test_missing_header_is_a_401_with_www_authenticate(client: TestClient) -> None:
    """A user route without a token answers 401 naming the Bearer scheme."""
    response = client.get("/admin/stats")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"] == "the request has no bearer token"


def test_invalid_token_is_a_401_that_does_not_echo_it(client: TestClient, keys: KeySet) -> None:
    """An expired token answers 401 saying so, without quoting the token."""
    a_day_ago = datetime.now(UTC) - timedelta(days=1)
    token = token_from(TokenIssuer(keys, issuer=ISSUER, audience=AUDIENCE, clock=lambda: a_day_ago))
    response = client.get("/admin/stats", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.json()["detail"] == "the bearer token has expired"
    assert token not in response.text
    assert token.split(".")[1] not in response.text


def test_customer_on_admin_route_is_a_403(client: TestClient, issuer: TokenIssuer) -> None:
    """A customer's valid token on an admin route answers 403."""
    response = client.get("/admin/stats", headers=bearer(issuer, Role.CUSTOMER))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def test_admin_on_admin_route_is_served(client: TestClient, issuer: TokenIssuer) -> None:
    """An admin's token is served on admin routes, declared either way."""
    headers = bearer(issuer, Role.ADMIN)
    assert client.get("/admin/stats", headers=headers).status_code == 200
    assert client.delete(f"/admin/orders/{uuid.uuid4()}", headers=headers).status_code == 204


def test_route_access_enumerates_every_route(verifier: TokenVerifier) -> None:
    """route_access lists every method and path template with its declared level."""
    access = route_access(sample_app(verifier))
    assert access[("GET", "/catalog/{sku}")] is Access.PUBLIC
    assert access[("POST", "/orders")] is Access.USER
    assert access[("GET", "/orders/{order_id}")] is Access.USER
    assert access[("GET", "/admin/stats")] is Access.ADMIN
    assert access[("DELETE", "/admin/orders/{order_id}")] is Access.ADMIN
    assert access[("GET", "/health/ready")] is Access.PUBLIC
    assert access[("GET", "/metrics")] is Access.PUBLIC
    assert access[("GET", "/openapi.json")] is Access.PUBLIC


def test_every_protected_route_refuses_an_anonymous_caller(client: TestClient) -> None:
    """Each route route_access calls non-public answers 401 without a token."""
    app = client.app
    assert isinstance(app, FastAPI)
    for (method, path), access in route_access(app).items():
        if access is Access.PUBLIC:
            continue
        url = path.replace("{order_id}", str(uuid.uuid4()))
        assert client.request(method, url).status_code == 401, (method, path)


def test_openapi_shows_bearer_security_on_protected_routes_only(client: TestClient) -> None:
    """The OpenAPI document declares the bearer scheme on protected routes, not public ones."""
    document = client.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert document["paths"]["/admin/stats"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in document["paths"]["/catalog/{sku}"]["get"]


def test_protected_routes_without_a_verifier_are_refused_at_build() -> None:
    """Building an app with protected routes and no verifier fails, naming the routes."""
    with pytest.raises(MissingVerifier) as error:
        sample_app(None)
    assert "GET /admin/stats" in error.value.routes


# --- remote JWKS ------------------------------------------------------------------------------


class JwksServer:
    """The users service's JWKS document, served by uvicorn, counting its requests."""

    def __init__(self, keys: KeySet) -> None:
        self.document = keys.jwks_document()
        self.requests = 0
        app = FastAPI()

        @app.get(JWKS_PATH)
        async def jwks() -> dict[str, object]:
            self.requests += 1
            return self.document

        self.server = BackgroundServer(app)

    @property
    def url(self) -> str:
        """The JWKS document's URL."""
        return self.server.url + JWKS_PATH


@pytest.fixture
def jwks_server(keys: KeySet) -> Iterator[JwksServer]:
    """A running JWKS server for ``keys``."""
    served = JwksServer(keys)
    with served.server:
        yield served


def test_jwks_is_fetched_once_for_many_verifications(
    jwks_server: JwksServer, issuer: TokenIssuer
) -> None:
    """A verifier reading a JWKS URL fetches it once and answers many requests from cache."""
    verifier = TokenVerifier.from_jwks_url(jwks_server.url, issuer=ISSUER, audience=AUDIENCE)
    with TestClient(sample_app(verifier)) as client:
        for _ in range(5):
            assert client.get("/admin/stats", headers=bearer(issuer, Role.ADMIN)).status_code == 200
    assert jwks_server.requests == 1


def test_unknown_kid_refetches_then_refuses(jwks_server: JwksServer, issuer: TokenIssuer) -> None:
    """A token with an unknown kid makes the verifier fetch again, then answers 401."""
    remote = RemoteJwks(jwks_server.url, min_refetch_interval=0)
    verifier = TokenVerifier(remote, issuer=ISSUER, audience=AUDIENCE)
    stranger = TokenIssuer(KeySet.generate(), issuer=ISSUER, audience=AUDIENCE)
    with TestClient(sample_app(verifier)) as client:
        assert client.get("/admin/stats", headers=bearer(issuer, Role.ADMIN)).status_code == 200
        response = client.get("/admin/stats", headers=bearer(stranger, Role.ADMIN))
    assert response.status_code == 401
    assert response.json()["detail"] == "the bearer token is signed with an unknown key"
    assert jwks_server.requests == 2


def test_refetches_are_throttled(jwks_server: JwksServer) -> None:
    """Unknown kids within the minimum interval cause no further fetches."""
    verifier = TokenVerifier.from_jwks_url(
        jwks_server.url, issuer=ISSUER, audience=AUDIENCE, min_refetch_interval=60
    )
    stranger = TokenIssuer(KeySet.generate(), issuer=ISSUER, audience=AUDIENCE)
    with TestClient(sample_app(verifier)) as client:
        for _ in range(3):
            assert client.get("/admin/stats", headers=bearer(stranger)).status_code == 401
    assert jwks_server.requests == 1


def test_rotated_key_is_found_by_refetching(keys: KeySet) -> None:
    """A token signed by a key published after the first fetch verifies after a refetch."""
    served = JwksServer(keys)
    new_key = SigningKey.generate()
    rotated = KeySet([new_key, *keys.keys])
    with served.server:
        verifier = TokenVerifier(
            RemoteJwks(served.url, min_refetch_interval=0), issuer=ISSUER, audience=AUDIENCE
        )
        with TestClient(sample_app(verifier)) as client:
            old = TokenIssuer(keys, issuer=ISSUER, audience=AUDIENCE)
            assert client.get("/admin/stats", headers=bearer(old, Role.ADMIN)).status_code == 200
            served.document = rotated.jwks_document()  # the users service rotated its key
            new = TokenIssuer(rotated, issuer=ISSUER, audience=AUDIENCE)
            assert client.get("/admin/stats", headers=bearer(new, Role.ADMIN)).status_code == 200


async def test_unreachable_jwks_is_unavailable_not_unauthorized(issuer: TokenIssuer) -> None:
    """With no keys ever fetched, verification fails as 503 Unavailable, not as a 401."""
    verifier = TokenVerifier.from_jwks_url(
        "http://127.0.0.1:9/jwks.json", issuer=ISSUER, audience=AUDIENCE
    )
    with pytest.raises(Unavailable):
        await verifier.verify(token_from(issuer))
