"""Passwords never appear in logs, events, error answers or the users database.

One scenario (:func:`trail`) registers and logs in with a distinctive password and then
sends it every way a client might get it wrong: a bad email beside it, as the email, too
long, as a list, under an extra field, in a body that is not JSON, in the query string,
to PATCH /users/me, and as failed logins up to the rate limit. Each test then searches
one place the password could leak to for it, and for the wrong password that was tried.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from confluent_kafka import Message

from evp.avro import Event
from evp.events import UserLoggedIn, UserRegistered
from evp.eventstore.recorder import StoredEvent
from evp.messaging import MessagingSettings
from evp.messaging.headers import headers_of
from evp.service import ServiceSettings
from evp.service.inprocess import RunningService, running_service
from shop.users.app import service
from tests.messaging.probes import topic_messages

PASSWORD = "Quokka-Zebra-4417-secret"
WRONG_PASSWORD = "Narwhal-Okapi-9902-guess"
SECRETS = (PASSWORD, WRONG_PASSWORD)
EMAIL = "ada@example.com"
ADA = {"email": EMAIL, "password": PASSWORD, "name": "Ada"}
CLIENT_LOGGERS = {"httpx", "httpcore", "httpcore2"}


@dataclass
class Trail:
    """What the scenario left behind, wherever a password could have leaked to."""

    answers: dict[str, httpx.Response]
    logs: list[logging.LogRecord]
    stored: list[StoredEvent]
    events: list[Event]
    published: list[Message]
    rows: dict[str, list[dict[str, Any]]]


EXPECTED = {
    "register": 201,
    "register again": 409,
    "bad email": 422,
    "password as email": 422,
    "too long": 422,
    "as a list": 422,
    "extra field": 422,
    "not json": 400,
    "in the query": 422,
    "login extra field": 422,
    "login": 200,
    "wrong password": 401,
    "wrong again": 401,
    "rate limited": 429,
    "patch password": 422,
    "history": 200,
}
"""Each request of the scenario and the status it must get (USERS_LOGIN_MAX_FAILURES=2)."""


async def _scenario(users: RunningService) -> dict[str, httpx.Response]:
    """Every request of the scenario, by what it tries."""
    http = users.http
    wrong = {"email": EMAIL, "password": WRONG_PASSWORD}
    not_json = json.dumps(ADA)[:-1]
    answers = {
        "register": await http.post("/users", json=ADA),
        "register again": await http.post("/users", json=ADA),
        "bad email": await http.post("/users", json={**ADA, "email": "not-an-email"}),
        "password as email": await http.post("/users", json={**ADA, "email": PASSWORD}),
        "too long": await http.post("/users", json={**ADA, "password": PASSWORD * 8}),
        "as a list": await http.post("/users", json={**ADA, "password": [PASSWORD]}),
        "extra field": await http.post("/users", json={**ADA, "confirm": PASSWORD}),
        "not json": await http.post(
            "/users", content=not_json, headers={"Content-Type": "application/json"}
        ),
        "in the query": await http.post(
            "/auth/token", params={"email": EMAIL, "password": PASSWORD}
        ),
        "login extra field": await http.post(
            "/auth/token", json={"email": EMAIL, "password": PASSWORD, "remember": True}
        ),
        "login": await http.post("/auth/token", json={"email": EMAIL, "password": PASSWORD}),
        "wrong password": await http.post("/auth/token", json=wrong),
        "wrong again": await http.post("/auth/token", json=wrong),
        "rate limited": await http.post("/auth/token", json=wrong),
    }
    token = {"Authorization": f"Bearer {answers['login'].json().get('access_token')}"}
    answers["patch password"] = await http.patch(
        "/users/me", json={"password": PASSWORD}, headers=token
    )
    answers["history"] = await http.get("/users/me/history", headers=token)
    assert {label: a.status_code for label, a in answers.items()} == EXPECTED
    return answers


async def _published(messaging: MessagingSettings, count: int) -> list[Message]:
    """The users topic's messages, once the outbox relayed at least ``count``."""
    bootstrap = messaging.bootstrap_servers
    assert bootstrap is not None
    topic = messaging.topic_prefix + "users"
    async with asyncio.timeout(30):
        while len(found := await asyncio.to_thread(topic_messages, bootstrap, topic)) < count:
            await asyncio.sleep(0.2)
    return found


async def _rows(users: RunningService) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table in the users database, by table."""
    async with users.runtime.recorder.pool.acquire() as connection:
        tables = await connection.fetch(
            "SELECT schemaname, tablename FROM pg_tables"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
        return {
            f"{t['schemaname']}.{t['tablename']}": [
                dict(row)
                for row in await connection.fetch(
                    f'SELECT * FROM "{t["schemaname"]}"."{t["tablename"]}"'
                )
            ]
            for t in tables
        }


@pytest.fixture
async def trail(
    settings_for: Callable[[str], ServiceSettings],
    messaging_settings: MessagingSettings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> AsyncIterator[Trail]:
    """The scenario run against the users service, and everything it left behind."""
    monkeypatch.setenv("USERS_LOGIN_MAX_FAILURES", "2")
    caplog.set_level(logging.DEBUG)
    async with running_service(service, settings_for("users")) as users:
        answers = await _scenario(users)
        stored = await users.runtime.store.recorder.read_all()
        events = [r.event for r in await users.runtime.store.read_all(0)]
        published = await _published(messaging_settings, len(stored))
        rows = await _rows(users)
        yield Trail(answers, list(caplog.records), stored, events, published, rows)


def _leaks(text: str | bytes) -> list[str]:
    """The secrets found in ``text``."""
    if isinstance(text, bytes):
        return [s for s in SECRETS if s.encode() in text]
    return [s for s in SECRETS if s in text]


def test_no_error_answer_echoes_the_password(trail: Trail) -> None:
    """No answer of the scenario (the 400, 401, 409, 422s and 429 above all) holds the
    password or the wrong one, in its body or its headers."""
    leaked = {
        label: _leaks(answer.text + json.dumps(dict(answer.headers)))
        for label, answer in trail.answers.items()
    }
    assert {label: found for label, found in leaked.items() if found} == {}


def _of_the_test_client(record: logging.LogRecord) -> bool:
    """Whether the test's own HTTP client logged ``record`` (it logs the URLs it calls,
    query strings included): the caller's log, not the service's."""
    return record.name.split(".")[0] in CLIENT_LOGGERS


def test_no_log_record_holds_the_password(trail: Trail) -> None:
    """No record the service logged during the scenario, at any level, holds either
    password in its message, its arguments, its extra fields or its exception."""
    leaked = [
        (record.name, record.getMessage())
        for record in trail.logs
        if not _of_the_test_client(record) and _leaks(repr(vars(record)) + record.getMessage())
    ]
    assert any(r.name == "evp.web.access" for r in trail.logs), "the capture saw no request"
    assert leaked == []


def test_no_event_stored_or_published_holds_the_password(trail: Trail) -> None:
    """The UserRegistered and UserLoggedIn events, as stored, as decoded and as published
    on the users topic (values, keys and headers), hold neither password."""
    kinds = {type(event) for event in trail.events}
    stored = [s.event_type for s in trail.stored if _leaks(s.data)]
    decoded = [e for e in trail.events if _leaks(json.dumps(e.to_avro(), default=str))]
    published = [
        m.offset()
        for m in trail.published
        if _leaks((m.value() or b"") + (m.key() or b""))
        or any(_leaks(value) for _, value in headers_of(m))
    ]
    assert {UserRegistered, UserLoggedIn} <= kinds
    assert len(trail.published) >= len(trail.stored)
    assert (stored, decoded, published) == ([], [], [])


def test_no_row_of_the_users_database_holds_the_password(trail: Trail) -> None:
    """Accounts, failed logins, keys and the event store hold neither password in any
    column (the account holds an argon2 hash)."""
    leaked = [
        (table, column)
        for table, rows in trail.rows.items()
        for row in rows
        for column, value in row.items()
        if _leaks(value if isinstance(value, bytes) else str(value))
    ]
    hashes = [row["password_hash"] for row in trail.rows["public.users_accounts"]]
    assert hashes
    assert all(h.startswith("$argon2") for h in hashes)
    assert leaked == []
