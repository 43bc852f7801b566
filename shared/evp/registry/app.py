"""The registry's Starlette application: routes, error mapping, auth and lifespan.

The lifespan opens the store (running the migrations) and yields the
:class:`~evp.registry.service.Registry` as request state, so ``with TestClient(app)``
exercises the same start-up as a server does.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from evp.registry.auth import BasicAuthMiddleware, User
from evp.registry.errors import RegistryError
from evp.registry.openapi import openapi_document
from evp.registry.postgres_store import PostgresRegistryStore
from evp.registry.responses import json_response
from evp.registry.routes import ROUTES, EncodedSlashes
from evp.registry.service import Registry
from evp.registry.store import RegistryStore
from evp.schema.compatibility import CompatibilityLevel

__all__ = ["create_app"]

_log = logging.getLogger(__name__)

TITLE = "evp schema registry (Confluent-compatible, Avro)"
API_VERSION = "1.0.0"


def create_app(
    database_url: str | None = None,
    *,
    store: RegistryStore | None = None,
    users: Sequence[User] = (),
    default_compatibility: CompatibilityLevel = CompatibilityLevel.BACKWARD,
) -> Starlette:
    """The registry app over Postgres at ``database_url``, or over an already open ``store``.

    ``default_compatibility`` applies where no config sets a level.
    """
    if (database_url is None) == (store is None):
        raise ValueError("give exactly one of database_url and store")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        if store is not None:
            registry = Registry(store, default_compatibility=default_compatibility)
            async with store.watch_purges(registry.forget):
                yield {"registry": registry}
            return
        assert database_url is not None
        opened = await PostgresRegistryStore.connect(database_url)
        try:
            registry = Registry(opened, default_compatibility=default_compatibility)
            async with opened.watch_purges(registry.forget):
                yield {"registry": registry}
        finally:
            await opened.close()

    return Starlette(
        routes=[
            *ROUTES,
            Route("/openapi.json", _openapi, methods=["GET"], include_in_schema=False),
        ],
        middleware=[Middleware(EncodedSlashes), Middleware(BasicAuthMiddleware, users=users)],
        exception_handlers={
            RegistryError: _registry_error,
            HTTPException: _http_error,
            Exception: _unexpected_error,
        },
        lifespan=lifespan,
    )


async def _openapi(request: Request) -> Response:
    """The OpenAPI document of this registry."""
    return json_response(
        request, openapi_document(request.app.routes, title=TITLE, version=API_VERSION)
    )


async def _registry_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RegistryError)
    if error.status < 500:
        return json_response(request, error.body(), error.status)
    # The detail (driver text) goes to the log only; the answer names where to find it.
    reference = _log_failure(request, error)
    return json_response(request, error.body(reference), error.status)


async def _http_error(request: Request, error: Exception) -> Response:
    # Unknown paths and methods, answered in Confluent's shape (code = HTTP status).
    assert isinstance(error, HTTPException)
    body = {"error_code": error.status_code, "message": f"HTTP {error.status_code} {error.detail}"}
    return json_response(request, body, error.status_code, error.headers)


async def _unexpected_error(request: Request, error: Exception) -> Response:
    reference = _log_failure(request, error)
    body = {"error_code": 500, "message": f"Internal Server Error (reference {reference})"}
    return json_response(request, body, 500)


def _log_failure(request: Request, error: Exception) -> str:
    """Log ``error`` in full under a fresh reference, and return the reference."""
    reference = secrets.token_hex(6)
    _log.error(
        "registry failure %s on %s %s: %s",
        reference,
        request.method,
        request.url.path,
        error,
        exc_info=error,
    )
    return reference
