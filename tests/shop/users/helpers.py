"""What the users service's tests share: a sample account, and calls that use it."""

from __future__ import annotations

from typing import Any

from evp.avro import Event
from evp.service.testing import RunningService

PASSWORD = "correct horse battery staple"
ADA = {"email": "ada@example.com", "password": PASSWORD, "name": "Ada"}


async def register(users: RunningService, **changes: str) -> dict[str, Any]:
    """Create Ada's account (or one like it); its 201 body."""
    response = await users.http.post("/users", json={**ADA, **changes})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def token_for(
    users: RunningService, email: str = ADA["email"], password: str = PASSWORD
) -> str:
    """An access token for the account, from POST /auth/token."""
    response = await users.http.post("/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    """The Authorization header carrying ``token``."""
    return {"Authorization": f"Bearer {token}"}


async def stored_events(users: RunningService) -> list[Event]:
    """Every event the service stored, in order."""
    return [r.event for r in await users.runtime.store.read_all(0)]
