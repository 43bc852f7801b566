"""Failed logins are limited per email and per client address, each with its own count.

The per-email limit stops guessing at one account from many addresses; the per-address
limit stops one address trying a few passwords at many accounts (credential stuffing),
which the per-email count never sees. Each client here calls the users app from an
address of its own, as the ASGI server would report it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from evp.service import ServiceSettings
from evp.service.inprocess import RunningService, running_service
from evp.settings import SettingsError
from shop.users.app import service
from shop.users.settings import UsersSettings

Settings = Callable[[str], ServiceSettings]

PASSWORD = "the right password"


@asynccontextmanager
async def _from(users: RunningService, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the users app whose requests come from ``address``."""
    transport = httpx.ASGITransport(app=users.app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://users") as client:
        yield client


async def _sign_up(users: RunningService, email: str) -> None:
    body = {"email": email, "password": PASSWORD, "name": "Ada"}
    response = await users.http.post("/users", json=body)
    assert response.status_code == 201, response.text


async def _log_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/auth/token", json={"email": email, "password": password})


async def test_failures_for_one_email_are_limited_whatever_the_address(
    settings_for: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three failures for one email from three addresses: a fourth address, even with the
    right password, gets 429 with Retry-After."""
    monkeypatch.setenv("USERS_LOGIN_MAX_FAILURES", "3")
    async with running_service(service, settings_for("users")) as users:
        await _sign_up(users, "ada@example.com")
        failures = []
        for n in range(3):
            async with _from(users, f"198.51.100.{n + 1}") as client:
                failures.append(await _log_in(client, "ada@example.com", "wrong password"))
        async with _from(users, "198.51.100.9") as client:
            limited = await _log_in(client, "ada@example.com", PASSWORD)
    assert [f.status_code for f in failures] == [401, 401, 401]
    assert limited.status_code == 429
    assert 290 <= int(limited.headers["Retry-After"]) <= 300


async def test_failures_from_one_address_are_limited_whatever_the_email(
    settings_for: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three failures from one address, each for another email: that address then gets 429
    with Retry-After even for a right password, while another address logs in."""
    monkeypatch.setenv("USERS_LOGIN_ADDRESS_MAX_FAILURES", "3")
    async with running_service(service, settings_for("users")) as users:
        await _sign_up(users, "ada@example.com")
        async with _from(users, "203.0.113.7") as attacker:
            failures = [
                await _log_in(attacker, f"victim{n}@example.com", "password1") for n in range(3)
            ]
            limited = await _log_in(attacker, "ada@example.com", PASSWORD)
        async with _from(users, "198.51.100.1") as neighbour:
            other = await _log_in(neighbour, "ada@example.com", PASSWORD)
    assert [f.status_code for f in failures] == [401, 401, 401]
    assert limited.status_code == 429
    assert 290 <= int(limited.headers["Retry-After"]) <= 300
    assert limited.headers["content-type"].startswith("application/problem+json")
    assert other.status_code == 200


async def test_a_successful_login_does_not_reset_the_address_count(
    settings_for: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An attacker logging into their own account between guesses keeps their failures."""
    monkeypatch.setenv("USERS_LOGIN_ADDRESS_MAX_FAILURES", "3")
    async with running_service(service, settings_for("users")) as users:
        await _sign_up(users, "mallory@example.com")
        async with _from(users, "203.0.113.7") as attacker:
            answers = [
                await _log_in(attacker, "victim0@example.com", "password1"),
                await _log_in(attacker, "victim1@example.com", "password1"),
                await _log_in(attacker, "mallory@example.com", PASSWORD),
                await _log_in(attacker, "victim2@example.com", "password1"),
                await _log_in(attacker, "victim3@example.com", "password1"),
            ]
    assert [a.status_code for a in answers] == [401, 401, 200, 401, 429]


async def test_an_address_may_log_in_again_once_the_window_passes(
    settings_for: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the address's failures leave the window, its right password gets a token again."""
    monkeypatch.setenv("USERS_LOGIN_ADDRESS_MAX_FAILURES", "1")
    monkeypatch.setenv("USERS_LOGIN_WINDOW_S", "1")
    async with running_service(service, settings_for("users")) as users:
        await _sign_up(users, "ada@example.com")
        async with _from(users, "203.0.113.7") as client:
            await _log_in(client, "eve@example.com", "password1")
            limited = await _log_in(client, "ada@example.com", PASSWORD)
            await asyncio.sleep(1.1)
            later = await _log_in(client, "ada@example.com", PASSWORD)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "1")
    assert later.status_code == 200


def test_the_address_limit_is_read_from_the_environment() -> None:
    """USERS_LOGIN_ADDRESS_MAX_FAILURES sets the per-address limit; it defaults to 20."""
    assert UsersSettings.from_env({}).login_address_max_failures == 20
    configured = UsersSettings.from_env({"USERS_LOGIN_ADDRESS_MAX_FAILURES": "7"})
    assert configured.login_address_max_failures == 7


def test_an_address_limit_below_one_is_refused() -> None:
    """A limit of 0 would lock every address out: start-up fails naming the variable."""
    with pytest.raises(SettingsError, match="USERS_LOGIN_ADDRESS_MAX_FAILURES"):
        UsersSettings.from_env({"USERS_LOGIN_ADDRESS_MAX_FAILURES": "0"})
