"""A service that issues tokens (the users service) verifies them with keys it loads at start."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from fastapi import APIRouter

from evp.service import (
    InvalidService,
    Service,
    ServiceRuntime,
    ServiceSettings,
    ServiceStartError,
)
from evp.service.testing import running_service
from evp.web import CurrentUser, KeySet, Role, TokenIssuer

Settings = Callable[[str], ServiceSettings]


def _issuer_service(keys: list[KeySet]) -> Service:
    """A service whose route needs a token, signing with the next key set of ``keys``."""
    issuer = Service("issuer")
    routes = APIRouter()

    @routes.get("/whoami")
    async def whoami(principal: CurrentUser) -> dict[str, str]:
        return {"user_id": str(principal.user_id)}

    issuer.include(routes)

    @issuer.signs_tokens
    async def load(runtime: ServiceRuntime) -> KeySet:
        return keys.pop(0)

    return issuer


def _token(keys: KeySet, user_id: uuid.UUID) -> str:
    issuer = TokenIssuer(keys, issuer="evp-users", audience="evp")
    return issuer.issue(user_id, "ada@example.com", Role.CUSTOMER).access_token


async def test_tokens_are_verified_with_the_keys_loaded_at_start(settings_for: Settings) -> None:
    """Without a JWKS URL, the routes accept tokens of the loaded keys and refuse others."""
    own, other = KeySet.generate(), KeySet.generate()
    user_id = uuid.uuid4()
    async with running_service(_issuer_service([own]), settings_for("issuer")) as service:
        accepted = await service.http.get(
            "/whoami", headers={"Authorization": f"Bearer {_token(own, user_id)}"}
        )
        refused = await service.http.get(
            "/whoami", headers={"Authorization": f"Bearer {_token(other, user_id)}"}
        )
    assert accepted.status_code == 200
    assert accepted.json() == {"user_id": str(user_id)}
    assert refused.status_code == 401


async def test_each_app_of_a_service_verifies_with_its_own_keys(settings_for: Settings) -> None:
    """Two instances of one service that loaded different keys do not accept each other's."""
    first_keys, second_keys = KeySet.generate(), KeySet.generate()
    issuer = _issuer_service([first_keys, second_keys])
    token = {"Authorization": f"Bearer {_token(first_keys, uuid.uuid4())}"}
    async with (
        running_service(issuer, settings_for("issuer")) as first,
        running_service(issuer, settings_for("issuer")) as second,
    ):
        mine = await first.http.get("/whoami", headers=token)
        theirs = await second.http.get("/whoami", headers=token)
    assert (mine.status_code, theirs.status_code) == (200, 401)


async def test_keys_that_cannot_be_loaded_stop_the_start(settings_for: Settings) -> None:
    """A failing key loader is a start-up error naming the signing keys."""
    broken = Service("broken")

    @broken.signs_tokens
    async def load(runtime: ServiceRuntime) -> KeySet:
        raise ConnectionError("the key table is unreachable")

    with pytest.raises(ServiceStartError, match="signing keys"):
        async with running_service(broken, settings_for("broken")):
            pass


def test_signing_keys_are_declared_once() -> None:
    """A second key loader is refused, naming the service."""
    issuer = _issuer_service([])

    async def another(runtime: ServiceRuntime) -> KeySet:
        return KeySet.generate()

    with pytest.raises(InvalidService, match="declared already"):
        issuer.signs_tokens(another)
