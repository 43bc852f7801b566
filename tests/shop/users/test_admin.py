"""The admin account of the settings, created at start: once, and only when asked for."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import jwt
import pytest

from evp.events import UserRegistered
from evp.service import ServiceSettings
from evp.service.testing import running_service
from shop.users.app import service
from tests.shop.users.helpers import bearer, register, stored_events, token_for

Settings = Callable[[str], ServiceSettings]
ADMIN_PASSWORD = "an admin's long passphrase"


@pytest.fixture
def admin_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The admin account's variables, set."""
    monkeypatch.setenv("USERS_ADMIN_EMAIL", "Boss@Shop.local")
    monkeypatch.setenv("USERS_ADMIN_PASSWORD", ADMIN_PASSWORD)


@pytest.mark.usefixtures("admin_settings")
async def test_the_admin_is_created_once_across_two_starts(settings_for: Settings) -> None:
    """A restart finds the admin account and stores no second one."""
    settings = settings_for("users")
    async with running_service(service, settings):
        pass
    async with running_service(service, settings) as users:
        token = await token_for(users, "boss@shop.local", ADMIN_PASSWORD)
        me = await users.http.get("/users/me", headers=bearer(token))
        registered = [e for e in await stored_events(users) if isinstance(e, UserRegistered)]
    assert len(registered) == 1
    assert registered[0].email == "boss@shop.local"
    assert me.json()["role"] == "admin"
    assert jwt.decode(token, options={"verify_signature": False})["role"] == "admin"


@pytest.mark.usefixtures("admin_settings")
async def test_replicas_starting_together_create_one_admin(settings_for: Settings) -> None:
    """Two instances starting at once on one database store one admin account."""
    settings = settings_for("users")
    async with contextlib.AsyncExitStack() as stack:
        first, _ = await asyncio.gather(
            stack.enter_async_context(running_service(service, settings)),
            stack.enter_async_context(running_service(service, settings)),
        )
        registered = [e for e in await stored_events(first) if isinstance(e, UserRegistered)]
    assert len(registered) == 1


async def test_without_a_password_no_admin_is_created_and_the_log_says_how(
    settings_for: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """No USERS_ADMIN_PASSWORD: no account, and one log line naming the variable."""
    caplog.set_level(logging.INFO, logger="shop.users")
    async with running_service(service, settings_for("users")) as users:
        events = await stored_events(users)
    lines = [r.getMessage() for r in caplog.records if "USERS_ADMIN_PASSWORD" in r.getMessage()]
    assert events == []
    assert len(lines) == 1


@pytest.mark.usefixtures("admin_settings")
async def test_a_customer_holding_the_admin_email_is_not_promoted(
    settings_for: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """An address registered by a customer before an admin was configured stays a customer."""
    settings = settings_for("users")
    with pytest.MonkeyPatch.context() as unset:
        unset.delenv("USERS_ADMIN_PASSWORD")
        async with running_service(service, settings) as users:
            await register(users, email="boss@shop.local")
    async with running_service(service, settings) as users:
        token = await token_for(users, "boss@shop.local")
        me = await users.http.get("/users/me", headers=bearer(token))
    assert me.json()["role"] == "customer"
    assert any("no admin account is created" in r.getMessage() for r in caplog.records)
    assert ADMIN_PASSWORD not in caplog.text
