"""Who may call a route: declared by the route's dependencies, inspectable from the app.

A public route declares nothing; a route for signed-in users depends on
:func:`require_user` (or takes a :data:`CurrentUser` parameter); an admin route on
:func:`require_admin` (:data:`CurrentAdmin`). :func:`route_access` reads those
declarations back from the app's routes, so a test can enumerate every route and its
level, and the rule cannot drift from the code. The bearer scheme is FastAPI's, so the
OpenAPI document shows it on exactly the protected routes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from evp.web.auth.tokens import Principal, TokenVerifier
from evp.web.errors import Forbidden, Unauthorized
from evp.web.routing import served_routes

__all__ = [
    "VERIFIER_STATE",
    "Access",
    "CurrentAdmin",
    "CurrentUser",
    "require_admin",
    "require_user",
    "route_access",
]

VERIFIER_STATE = "token_verifier"
"""The ``app.state`` attribute holding the app's :class:`TokenVerifier`."""

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="JWT",
    description="An access token from the users service.",
)


class Access(StrEnum):
    """Who may call a route."""

    PUBLIC = "public"
    USER = "user"
    ADMIN = "admin"


async def require_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The signed-in caller; 401 without a valid bearer token."""
    if credentials is None:
        raise Unauthorized("the request has no bearer token", token_given=False)
    verifier: TokenVerifier | None = getattr(request.app.state, VERIFIER_STATE, None)
    if verifier is None:
        # web_app refuses to build such an app; this guards apps assembled by hand.
        raise RuntimeError("a route needs a bearer token but the app has no token verifier")
    return await verifier.verify(credentials.credentials)


async def require_admin(principal: Annotated[Principal, Depends(require_user)]) -> Principal:
    """The signed-in caller, who must be an admin; 403 for anyone else."""
    if not principal.is_admin:
        raise Forbidden("this route is for admins only", user_id=principal.user_id)
    return principal


CurrentUser = Annotated[Principal, Depends(require_user)]
"""A route parameter for the signed-in caller."""

CurrentAdmin = Annotated[Principal, Depends(require_admin)]
"""A route parameter for the signed-in caller, who must be an admin."""

_LEVEL_OF = {require_user: Access.USER, require_admin: Access.ADMIN}
_RANK = {Access.PUBLIC: 0, Access.USER: 1, Access.ADMIN: 2}


def route_access(app: FastAPI) -> dict[tuple[str, str], Access]:
    """Every (method, path template) the app serves, with who may call it."""
    found: dict[tuple[str, str], Access] = {}
    for served in served_routes(app.routes):
        level = Access.PUBLIC if served.dependant is None else _access_of(served.dependant)
        for method in sorted(served.methods):
            found[(method, served.path)] = level
    return found


def _access_of(dependant: Dependant) -> Access:
    level = _LEVEL_OF.get(dependant.call, Access.PUBLIC) if dependant.call else Access.PUBLIC
    for child in dependant.dependencies:
        child_level = _access_of(child)
        if _RANK[child_level] > _RANK[level]:
            level = child_level
    return level
