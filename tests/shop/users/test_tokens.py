"""Access tokens: issuing them, refusing bad credentials, rate limits, and verifying them
elsewhere through the published keys."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable

import jwt
import pytest
from fastapi import APIRouter

from evp.events import UserLoggedIn
from evp.service import Service, ServiceSettings
from evp.service.testing import running_service
from evp.web import CurrentUser
from shop.users.app import service
from tests.shop.users.helpers import ADA, PASSWORD, bearer, register, stored_events, token_for

Settings = Callable[[str], ServiceSettings]


async def test_a_token_is_a_bearer_jwt_for_the_account(settings_for: Settings) -> None:
    """The token response is OAuth 2's, and the JWT names the user, issuer and audience."""
    async with running_service(service, settings_for("users")) as users:
        created = await register(users)
        response = await users.http.post(
            "/auth/token", json={"email": "ADA@example.com", "password": PASSWORD}
        )
        events = await stored_events(users)
    body = response.json()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert response.status_code == 200
    assert (body["token_type"], body["expires_in"]) == ("bearer", 3600)
    assert claims["sub"] == created["user_id"]
    assert (claims["iss"], claims["aud"], claims["role"]) == ("evp-users", "evp", "customer")
    assert claims["exp"] - claims["iat"] == 3600
    (logged_in,) = [e for e in events if isinstance(e, UserLoggedIn)]
    assert str(logged_in.user_id) == created["user_id"]


async def test_the_token_lifetime_comes_from_the_settings(
    settings_for: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """USERS_TOKEN_TTL_S sets expires_in."""
    monkeypatch.setenv("USERS_TOKEN_TTL_S", "60")
    async with running_service(service, settings_for("users")) as users:
        await register(users)
        response = await users.http.post(
            "/auth/token", json={"email": ADA["email"], "password": PASSWORD}
        )
    assert response.json()["expires_in"] == 60


async def test_a_wrong_password_and_an_unknown_email_answer_the_same_401(
    settings_for: Settings,
) -> None:
    """Neither answer tells whether the account exists."""
    async with running_service(service, settings_for("users")) as users:
        await register(users)
        wrong = await users.http.post(
            "/auth/token", json={"email": ADA["email"], "password": "not the password"}
        )
        unknown = await users.http.post(
            "/auth/token", json={"email": "eve@example.com", "password": PASSWORD}
        )
    assert (wrong.status_code, unknown.status_code) == (401, 401)
    assert wrong.json() == {**unknown.json(), "instance": wrong.json()["instance"]}
    assert wrong.headers["content-type"].startswith("application/problem+json")


async def test_concurrent_logins_of_one_user_all_succeed(settings_for: Settings) -> None:
    """Logins racing to append to one account's stream each get a token and an event."""
    async with running_service(service, settings_for("users")) as users:
        await register(users)
        tokens = await asyncio.gather(*(token_for(users) for _ in range(4)))
        events = await stored_events(users)
    assert len(tokens) == 4
    assert len([e for e in events if isinstance(e, UserLoggedIn)]) == 4


async def test_a_login_missing_fields_names_them(settings_for: Settings) -> None:
    """An empty token request is a 422 naming the email and the password."""
    async with running_service(service, settings_for("users")) as users:
        response = await users.http.post("/auth/token", json={})
    fields = {error["field"] for error in response.json()["errors"]}
    assert response.status_code == 422
    assert fields == {"body.email", "body.password"}


async def test_repeated_failures_for_one_email_are_429_with_retry_after(
    settings_for: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the allowed failures even the right password waits; other emails do not."""
    monkeypatch.setenv("USERS_LOGIN_MAX_FAILURES", "3")
    async with running_service(service, settings_for("users")) as users:
        await register(users)
        await register(users, email="bob@example.com", name="Bob")
        failures = [
            await users.http.post("/auth/token", json={"email": ADA["email"], "password": "x"})
            for _ in range(3)
        ]
        limited = await users.http.post(
            "/auth/token", json={"email": ADA["email"], "password": PASSWORD}
        )
        other = await users.http.post(
            "/auth/token", json={"email": "bob@example.com", "password": PASSWORD}
        )
    assert [f.status_code for f in failures] == [401, 401, 401]
    assert limited.status_code == 429
    assert 290 <= int(limited.headers["Retry-After"]) <= 300
    assert limited.headers["content-type"].startswith("application/problem+json")
    assert other.status_code == 200


async def test_unknown_emails_are_rate_limited_too(
    settings_for: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guessing at an address that has no account is limited like any other."""
    monkeypatch.setenv("USERS_LOGIN_MAX_FAILURES", "2")
    async with running_service(service, settings_for("users")) as users:
        answers = [
            await users.http.post("/auth/token", json={"email": "eve@example.com", "password": "x"})
            for _ in range(3)
        ]
    assert [a.status_code for a in answers] == [401, 401, 429]


async def test_logins_open_again_once_the_window_passes(
    settings_for: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the failures leave the window, the right password gets a token again."""
    monkeypatch.setenv("USERS_LOGIN_MAX_FAILURES", "1")
    monkeypatch.setenv("USERS_LOGIN_WINDOW_S", "1")
    async with running_service(service, settings_for("users")) as users:
        await register(users)
        await users.http.post("/auth/token", json={"email": ADA["email"], "password": "x"})
        limited = await users.http.post(
            "/auth/token", json={"email": ADA["email"], "password": PASSWORD}
        )
        await asyncio.sleep(1.1)
        later = await users.http.post(
            "/auth/token", json={"email": ADA["email"], "password": PASSWORD}
        )
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "1")
    assert later.status_code == 200


async def test_replicas_share_the_failure_count(
    settings_for: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Failures counted by one replica limit logins at another on the same database."""
    monkeypatch.setenv("USERS_LOGIN_MAX_FAILURES", "2")
    settings = settings_for("users")
    async with (
        running_service(service, settings) as first,
        running_service(service, settings) as second,
    ):
        await register(first)
        await first.http.post("/auth/token", json={"email": ADA["email"], "password": "x"})
        await second.http.post("/auth/token", json={"email": ADA["email"], "password": "x"})
        limited = await first.http.post(
            "/auth/token", json={"email": ADA["email"], "password": PASSWORD}
        )
    assert limited.status_code == 429


async def test_another_service_verifies_tokens_against_the_published_keys(
    settings_for: Settings,
) -> None:
    """A service given the users service's JWKS URL accepts its tokens and refuses others."""
    reader = Service("reader")
    routes = APIRouter()

    @routes.get("/whoami")
    async def whoami(principal: CurrentUser) -> dict[str, str]:
        return {"user_id": str(principal.user_id), "role": principal.role.value}

    reader.include(routes)
    async with running_service(service, settings_for("users"), serve_http=True) as users:
        created = await register(users)
        token = await token_for(users)
        jwks_url = f"{users.url}/.well-known/jwks.json"
        async with running_service(
            reader, settings_for("reader").replace(jwks_url=jwks_url)
        ) as other:
            accepted = await other.http.get("/whoami", headers=bearer(token))
            refused = await other.http.get("/whoami", headers=bearer(token[:-4] + "AAAA"))
    assert accepted.status_code == 200
    assert accepted.json() == {"user_id": created["user_id"], "role": "customer"}
    assert refused.status_code == 401


async def test_the_jwks_document_holds_public_keys_only(settings_for: Settings) -> None:
    """The published keys are Ed25519 public keys, with no private part."""
    async with running_service(service, settings_for("users")) as users:
        response = await users.http.get("/.well-known/jwks.json")
    (key,) = response.json()["keys"]
    assert response.status_code == 200
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert "d" not in key


async def test_tokens_stay_valid_across_a_restart(settings_for: Settings) -> None:
    """The signing key is kept in the database: a restarted service accepts its old tokens."""
    settings = settings_for("users")
    async with running_service(service, settings) as users:
        await register(users)
        token = await token_for(users)
        keys_before = (await users.http.get("/.well-known/jwks.json")).json()
    async with running_service(service, settings) as users:
        response = await users.http.get("/users/me", headers=bearer(token))
        keys_after = (await users.http.get("/.well-known/jwks.json")).json()
    assert response.status_code == 200
    assert keys_after == keys_before


async def test_the_password_appears_in_no_event_log_or_answer(
    settings_for: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Registering, logging in and failing to log in leave the password nowhere visible."""
    caplog.set_level(logging.DEBUG)
    async with running_service(service, settings_for("users")) as users:
        answers = [
            await users.http.post("/users", json=ADA),
            await users.http.post("/users", json=ADA),
            await users.http.post("/users", json={**ADA, "email": "bad"}),
            await users.http.post("/auth/token", json={"email": ADA["email"], "password": "x"}),
            await users.http.post(
                "/auth/token", json={"email": ADA["email"], "password": PASSWORD}
            ),
        ]
        token = answers[-1].json()["access_token"]
        answers.append(await users.http.get("/users/me/history", headers=bearer(token)))
        stored = await users.runtime.store.recorder.read_all()
        events = await stored_events(users)
    assert [a.status_code for a in answers] == [201, 409, 422, 401, 200, 200]
    for answer in answers:
        assert PASSWORD not in answer.text
    for record in stored:
        assert PASSWORD.encode() not in record.data
    for event in events:
        assert PASSWORD not in json.dumps(event.to_avro(), default=str)
    assert PASSWORD not in caplog.text


async def test_an_unknown_email_takes_about_as_long_as_a_wrong_password(
    settings_for: Settings,
) -> None:
    """An unknown email is checked against a decoy hash, so its 401 is not conspicuously fast."""

    async def fastest(email: str) -> float:
        durations = []
        for _ in range(3):
            started = time.perf_counter()
            response = await users.http.post(
                "/auth/token", json={"email": email, "password": "not the password"}
            )
            durations.append(time.perf_counter() - started)
            assert response.status_code == 401
        return min(durations)

    async with running_service(service, settings_for("users")) as users:
        await register(users)
        wrong_password = await fastest(ADA["email"])
        unknown_email = await fastest("eve@example.com")
    # Hashing is most of the work (tens of ms against a few for the queries); a generous
    # ratio keeps the test steady on busy machines.
    assert unknown_email > 0.4 * wrong_password
