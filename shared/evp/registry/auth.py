"""Optional HTTP basic authentication with read-only and read-write users.

When any user is configured, every request must authenticate (401 otherwise); endpoints
that change the registry additionally refuse read-only users (403). Which endpoints
change the registry is declared on the endpoints themselves (see
:mod:`evp.registry.routes`), so the rule cannot drift from the routes.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from evp.registry.errors import ForbiddenError, UnauthorizedError
from evp.registry.responses import error_response

__all__ = ["BasicAuthMiddleware", "Role", "User", "authorize_write", "parse_users"]

_SCOPE_KEY = "evp.registry.user"


class Role(StrEnum):
    """What a user may do."""

    READ_ONLY = "read-only"
    READ_WRITE = "read-write"


@dataclass(frozen=True)
class User:
    """A basic-auth user: name, password and role."""

    name: str
    password: str
    role: Role

    def __repr__(self) -> str:
        # Never print the password, in logs or in assertion messages.
        return f"User(name={self.name!r}, role={self.role.value!r})"


def parse_users(spec: str | Iterable[str], role: Role) -> tuple[User, ...]:
    """Users from ``"name:password"`` items (or one comma-separated string of them)."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    users = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        name, separator, password = item.partition(":")
        if not separator or not name or not password:
            raise ValueError(f"user {name or item[:16]!r} must be given as NAME:PASSWORD")
        users.append(User(name, password, role))
    return tuple(users)


class BasicAuthMiddleware:
    """Rejects unauthenticated requests; records the user for :func:`authorize_write`."""

    def __init__(self, app: ASGIApp, users: Sequence[User]) -> None:
        self.app = app
        self.users = {user.name: user for user in users}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.users:
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        user = self._authenticate(connection.headers.get("authorization"))
        if user is None:
            challenge = {"WWW-Authenticate": 'Basic realm="evp-registry"'}
            await error_response(connection, UnauthorizedError(), challenge)(scope, receive, send)
            return
        scope[_SCOPE_KEY] = user
        await self.app(scope, receive, send)

    def _authenticate(self, header: str | None) -> User | None:
        if not header or not header.lower().startswith("basic "):
            return None
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        name, _, password = decoded.partition(":")
        user = self.users.get(name)
        # Compare even for unknown names, so timing does not reveal which names exist.
        expected = user.password if user is not None else "\0" * len(password)
        if hmac.compare_digest(expected.encode(), password.encode()) and user is not None:
            return user
        return None


def authorize_write(request: Request) -> None:
    """Refuse a read-only user a request that changes the registry."""
    user = request.scope.get(_SCOPE_KEY)
    if isinstance(user, User) and user.role is Role.READ_ONLY:
        raise ForbiddenError(user.name)
