"""Accounts over HTTP: registering, the caller's profile, changing it, and its history."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from evp.events import EmailChanged, ProfileUpdated, UserLoggedIn, UserRegistered
from evp.service import ServiceSettings
from evp.service.testing import running_service
from evp.web import Access, Role, route_access
from shop.users.app import service
from shop.users.startup import token_issuer_of
from tests.shop.users.helpers import ADA, PASSWORD, bearer, register, stored_events, token_for

Settings = Callable[[str], ServiceSettings]


async def test_registering_answers_201_and_stores_user_registered(settings_for: Settings) -> None:
    """A new account is answered with its id, email and name, and stored as an event."""
    async with running_service(service, settings_for("users")) as users:
        response = await users.http.post("/users", json={**ADA, "email": " Ada@Example.com"})
        events = await stored_events(users)
    body = response.json()
    assert response.status_code == 201
    assert body == {"user_id": body["user_id"], "email": "ada@example.com", "name": "Ada"}
    (registered,) = events
    assert isinstance(registered, UserRegistered)
    assert registered.user_id == uuid.UUID(body["user_id"])
    assert (registered.email, registered.display_name) == ("ada@example.com", "Ada")


async def test_a_taken_email_is_409_whatever_its_case(settings_for: Settings) -> None:
    """A second account for one address is a conflict, and stores nothing."""
    async with running_service(service, settings_for("users")) as users:
        await register(users)
        response = await users.http.post("/users", json={**ADA, "email": "ADA@example.com"})
        events = await stored_events(users)
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert len(events) == 1


async def test_concurrent_registrations_of_one_email_make_one_account(
    settings_for: Settings,
) -> None:
    """Of several registrations of one address at once, exactly one is a 201."""
    async with running_service(service, settings_for("users")) as users:
        responses = await asyncio.gather(
            *(users.http.post("/users", json={**ADA, "name": f"Ada {n}"}) for n in range(6))
        )
        events = await stored_events(users)
    assert sorted(r.status_code for r in responses) == [201] + [409] * 5
    assert len(events) == 1


async def test_a_bad_registration_names_every_bad_field(settings_for: Settings) -> None:
    """A 422 names the email, the password and the name, without echoing the password."""
    async with running_service(service, settings_for("users")) as users:
        response = await users.http.post(
            "/users", json={"email": "not-an-email", "password": "Zq9!x", "name": " "}
        )
    fields = {error["field"] for error in response.json()["errors"]}
    assert response.status_code == 422
    assert fields == {"body.email", "body.password", "body.name"}
    assert "Zq9!x" not in response.text


async def test_a_registration_missing_fields_names_them(settings_for: Settings) -> None:
    """An empty object is a 422 naming each required field."""
    async with running_service(service, settings_for("users")) as users:
        response = await users.http.post("/users", json={})
    fields = {error["field"] for error in response.json()["errors"]}
    assert response.status_code == 422
    assert fields == {"body.email", "body.password", "body.name"}


async def test_a_body_that_is_not_json_is_400(settings_for: Settings) -> None:
    """Unreadable JSON is a 400 problem naming the body."""
    async with running_service(service, settings_for("users")) as users:
        response = await users.http.post(
            "/users", content=b"{nope", headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "body"


async def test_a_token_opens_the_callers_account(settings_for: Settings) -> None:
    """GET /users/me with a token from POST /auth/token answers the caller's account."""
    async with running_service(service, settings_for("users")) as users:
        created = await register(users)
        token = await token_for(users)
        response = await users.http.get("/users/me", headers=bearer(token))
    assert response.status_code == 200
    assert response.json() == {**created, "role": "customer"}


async def test_the_callers_account_needs_a_token(settings_for: Settings) -> None:
    """Without a bearer token the profile routes answer 401."""
    async with running_service(service, settings_for("users")) as users:
        answers = [
            await users.http.get("/users/me"),
            await users.http.patch("/users/me", json={"name": "Eve"}),
            await users.http.get("/users/me/history"),
            await users.http.get("/users/me", headers=bearer("not.a.jwt")),
        ]
    assert [a.status_code for a in answers] == [401, 401, 401, 401]


async def test_a_valid_token_for_an_unknown_user_is_404(settings_for: Settings) -> None:
    """A token this service signed for an account it does not hold finds nothing."""
    async with running_service(service, settings_for("users")) as users:
        stranger = token_issuer_of(users.runtime).issue(
            uuid.uuid4(), "x@example.com", Role.CUSTOMER
        )
        headers = bearer(stranger.access_token)
        answers = [
            await users.http.get("/users/me", headers=headers),
            await users.http.patch("/users/me", json={"name": "X"}, headers=headers),
            await users.http.get("/users/me/history", headers=headers),
        ]
    assert [a.status_code for a in answers] == [404, 404, 404]


async def test_a_new_name_stores_profile_updated(settings_for: Settings) -> None:
    """PATCH with a name answers the changed account and stores ProfileUpdated."""
    async with running_service(service, settings_for("users")) as users:
        await register(users)
        token = await token_for(users)
        response = await users.http.patch(
            "/users/me", json={"name": "Ada Lovelace"}, headers=bearer(token)
        )
        me = await users.http.get("/users/me", headers=bearer(token))
        events = await stored_events(users)
    assert response.status_code == 200
    assert response.json()["name"] == me.json()["name"] == "Ada Lovelace"
    updated = events[-1]
    assert isinstance(updated, ProfileUpdated)
    assert (updated.display_name, updated.changed_fields) == ("Ada Lovelace", ["display_name"])


async def test_a_new_email_stores_email_changed_and_moves_the_login(
    settings_for: Settings,
) -> None:
    """PATCH with an email stores EmailChanged; the new address logs in, the old does not."""
    async with running_service(service, settings_for("users")) as users:
        await register(users)
        token = await token_for(users)
        response = await users.http.patch(
            "/users/me", json={"email": "Ada@Lovelace.org"}, headers=bearer(token)
        )
        old = await users.http.post(
            "/auth/token", json={"email": ADA["email"], "password": PASSWORD}
        )
        await token_for(users, "ada@lovelace.org")
        events = await stored_events(users)
    assert response.status_code == 200
    assert response.json()["email"] == "ada@lovelace.org"
    assert old.status_code == 401
    (changed,) = [e for e in events if isinstance(e, EmailChanged)]
    assert (changed.previous_email, changed.new_email) == ("ada@example.com", "ada@lovelace.org")


async def test_changing_to_a_taken_email_is_409(settings_for: Settings) -> None:
    """PATCH to another account's address is a conflict and stores nothing."""
    async with running_service(service, settings_for("users")) as users:
        await register(users)
        await register(users, email="bob@example.com", name="Bob")
        token = await token_for(users)
        before = len(await stored_events(users))
        response = await users.http.patch(
            "/users/me", json={"email": "BOB@example.com"}, headers=bearer(token)
        )
        me = await users.http.get("/users/me", headers=bearer(token))
        after = len(await stored_events(users))
    assert response.status_code == 409
    assert me.json()["email"] == "ada@example.com"
    assert after == before


async def test_a_patch_changing_nothing_is_200_and_stores_nothing(settings_for: Settings) -> None:
    """An empty PATCH, or one repeating the current values, answers the account as it is."""
    async with running_service(service, settings_for("users")) as users:
        created = await register(users)
        token = await token_for(users)
        before = len(await stored_events(users))
        empty = await users.http.patch("/users/me", json={}, headers=bearer(token))
        same = await users.http.patch(
            "/users/me", json={"name": "Ada", "email": "ADA@example.com"}, headers=bearer(token)
        )
        after = len(await stored_events(users))
    assert (empty.status_code, same.status_code) == (200, 200)
    assert empty.json() == same.json() == {**created, "role": "customer"}
    assert after == before


async def test_a_bad_patch_names_every_bad_field(settings_for: Settings) -> None:
    """A 422 names a bad email, an empty name and an unknown field."""
    async with running_service(service, settings_for("users")) as users:
        await register(users)
        token = await token_for(users)
        response = await users.http.patch(
            "/users/me",
            json={"email": "nope", "name": "", "role": "admin"},
            headers=bearer(token),
        )
    fields = {error["field"] for error in response.json()["errors"]}
    assert response.status_code == 422
    assert fields == {"body.email", "body.name", "body.role"}


async def test_the_history_lists_the_callers_events_oldest_first(settings_for: Settings) -> None:
    """Registered, logged in, then the email change: each with its version and fields."""
    async with running_service(service, settings_for("users")) as users:
        created = await register(users)
        await register(users, email="bob@example.com", name="Bob")
        token = await token_for(users)
        await users.http.patch(
            "/users/me", json={"email": "ada@lovelace.org"}, headers=bearer(token)
        )
        response = await users.http.get("/users/me/history", headers=bearer(token))
    history = response.json()
    assert response.status_code == 200
    assert [e["event_type"] for e in history] == [
        UserRegistered.FULL_NAME,
        UserLoggedIn.FULL_NAME,
        EmailChanged.FULL_NAME,
    ]
    assert [e["version"] for e in history] == [1, 2, 3]
    assert history[0]["data"] == {
        "user_id": created["user_id"],
        "email": "ada@example.com",
        "display_name": "Ada",
        "marketing_opt_in": False,
    }
    assert history[1]["data"]["method"] == "PASSWORD"
    assert history[2]["data"]["new_email"] == "ada@lovelace.org"
    assert history[0]["at"] <= history[1]["at"] <= history[2]["at"]


async def test_routes_declare_their_access_and_are_in_the_openapi_document(
    settings_for: Settings,
) -> None:
    """Registering, tokens and keys are public; the caller's own routes need a token."""
    async with running_service(service, settings_for("users")) as users:
        document = (await users.http.get("/openapi.json")).json()
        access = route_access(users.app)
    assert access[("POST", "/users")] is Access.PUBLIC
    assert access[("POST", "/auth/token")] is Access.PUBLIC
    assert access[("GET", "/.well-known/jwks.json")] is Access.PUBLIC
    assert access[("GET", "/users/me")] is Access.USER
    assert access[("PATCH", "/users/me")] is Access.USER
    assert access[("GET", "/users/me/history")] is Access.USER
    assert {"/users", "/auth/token", "/users/me", "/users/me/history"} <= set(document["paths"])
