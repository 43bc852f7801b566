"""Every error answer as an RFC 9457 problem document (``application/problem+json``).

:data:`STATUS_BY_ERROR` is the one table from the platform's typed errors to status codes;
an error's class is looked up along its MRO, so a subclass answers like its nearest listed
ancestor, and anything unlisted is a 500. A 5xx never echoes the error's message (it may
quote SQL or host names): the detail is generic and the error goes to the log with its
traceback, under the request's correlation id.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from types import MappingProxyType
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from evp.avro.errors import EncodeError
from evp.errors import EvpError
from evp.eventstore.errors import AggregateNotFound, ConcurrencyError, DuplicateEventError
from evp.messaging.errors import DeliveryFailed, DependencyUnavailable, RegistryUnavailable
from evp.web.errors import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidRequest,
    MalformedRequest,
    NotFound,
    RateLimited,
    ServiceError,
    Unauthorized,
    Unavailable,
)

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "STATUS_BY_ERROR",
    "Problem",
    "ProblemResponse",
    "UnhandledErrorMiddleware",
    "field_errors",
    "install_problem_handlers",
    "problem_for_error",
    "status_for",
]

PROBLEM_CONTENT_TYPE = "application/problem+json"

STATUS_BY_ERROR: Mapping[type[EvpError], int] = MappingProxyType(
    {
        # What services raise from their routes.
        MalformedRequest: 400,
        Unauthorized: 401,
        Forbidden: 403,
        NotFound: 404,
        Conflict: 409,
        InvalidRequest: 422,
        RateLimited: 429,
        Unavailable: 503,
        # The platform's errors that reach a route: a stale or duplicate append is the
        # caller's conflict, a missing aggregate is theirs to not find, a value the event's
        # schema cannot hold is theirs to fix; an unreachable registry or broker is ours.
        ConcurrencyError: 409,
        DuplicateEventError: 409,
        AggregateNotFound: 404,
        EncodeError: 422,
        RegistryUnavailable: 503,
        # The database (or another dependency) is away for now: try again, not a bug.
        DependencyUnavailable: 503,
        DeliveryFailed: 503,
    }
)

_log = logging.getLogger("evp.web.problems")

_GENERIC_DETAIL = {
    500: "the server failed to answer this request; it has been logged",
    503: "a service this request needs is unavailable; try again later",
}


class ProblemResponse(JSONResponse):
    """A JSON response served as ``application/problem+json``."""

    media_type = PROBLEM_CONTENT_TYPE


@dataclass(frozen=True)
class Problem:
    """One problem document; ``extensions`` become top-level members beside the standard ones."""

    status: int
    title: str
    detail: str | None = None
    type: str = "about:blank"
    instance: str | None = None
    extensions: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of_status(
        cls, status: int, detail: str | None = None, *, instance: str | None = None
    ) -> Problem:
        """A problem described by its HTTP status alone (``about:blank``)."""
        return cls(status, HTTPStatus(status).phrase, detail, instance=instance)

    def to_dict(self) -> dict[str, Any]:
        """The document; standard members win over extensions of the same name."""
        document: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail is not None:
            document["detail"] = self.detail
        if self.instance is not None:
            document["instance"] = self.instance
        for name, value in self.extensions.items():
            document.setdefault(name, value)
        return document

    def response(self) -> ProblemResponse:
        """The document as a response, with its headers."""
        return ProblemResponse(self.to_dict(), status_code=self.status, headers=dict(self.headers))


def status_for(error: EvpError) -> int:
    """The status ``error`` answers with: its nearest listed class's, else 500."""
    for cls in type(error).__mro__:
        status = STATUS_BY_ERROR.get(cls)
        if status is not None:
            return status
    return 500


def problem_for_error(error: EvpError, *, instance: str | None = None) -> Problem:
    """The problem document answering ``error``."""
    status = status_for(error)
    if status >= 500:
        return Problem.of_status(status, _GENERIC_DETAIL.get(status), instance=instance)
    name = type(error).__name__
    if isinstance(error, ServiceError):
        extensions, headers = error.extensions(), error.headers()
    else:
        extensions = {k: v for k, v in error.to_dict().items() if k not in ("error", "message")}
        headers = {}
    return Problem(
        status=status,
        title=_words(name).capitalize(),
        detail=error.message,
        type=f"urn:evp:problem:{_words(name).replace(' ', '-')}",
        instance=instance,
        extensions=extensions,
        headers=headers,
    )


def field_errors(error: RequestValidationError) -> InvalidRequest:
    """FastAPI's validation error as ours: every bad field by its dotted path.

    A body that is not JSON at all is a :class:`MalformedRequest` (400) naming the body;
    pydantic's ``input`` is never copied, since it may be a password.
    """
    found = error.errors()
    for item in found:
        if item.get("type") == "json_invalid":
            reason = item.get("ctx", {}).get("error", "invalid JSON")
            position = [str(part) for part in item.get("loc", ())[1:]]
            where = f" at character {position[0]}" if position else ""
            return MalformedRequest(
                "the request body is not valid JSON",
                [FieldError("body", f"{reason}{where}", "json_invalid")],
            )
    return InvalidRequest(
        f"{len(found)} invalid field{'s' if len(found) != 1 else ''}",
        [
            FieldError(
                ".".join(str(part) for part in item.get("loc", ())),
                str(item.get("msg", "")),
                str(item.get("type", "")),
            )
            for item in found
        ],
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Answer typed errors, validation errors and HTTP exceptions with problem documents.

    Unexpected exceptions are :class:`UnhandledErrorMiddleware`'s, which must sit in the
    app's middleware stack (:func:`evp.web.app.web_app` puts it there).
    """
    app.add_exception_handler(EvpError, _evp_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_exception)


class UnhandledErrorMiddleware:
    """Turn an exception no handler took into a generic 500 problem, logged with its traceback.

    It sits inside the logging and metrics middleware so that they see a 500 answer rather
    than an exception, and it does not re-raise, so the server does not log it twice.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception:
            _log.exception(
                "unhandled error answering %s %s", scope.get("method"), scope.get("path")
            )
            if started:
                # Half an answer is out; all that is left is to let the server drop it.
                raise
            response = Problem.of_status(500, _GENERIC_DETAIL[500], instance=scope.get("path"))
            await response.response()(scope, receive, send)


async def _evp_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, EvpError)
    status = status_for(error)
    if status >= 500:
        _log.error("%s answered with %d", type(error).__name__, status, exc_info=error)
    return problem_for_error(error, instance=request.url.path).response()


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    return problem_for_error(field_errors(error), instance=request.url.path).response()


async def _http_exception(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    status = error.status_code
    detail: str | None = error.detail
    if detail == HTTPStatus(status).phrase:
        detail = _default_detail(status, request)
    # The headers matter: a 405 carries Allow.
    return Problem(
        status,
        HTTPStatus(status).phrase,
        detail,
        instance=request.url.path,
        headers=dict(error.headers or {}),
    ).response()


def _default_detail(status: int, request: Request) -> str | None:
    if status == 404:
        return f"nothing is served at {request.url.path}"
    if status == 405:
        return f"{request.method} is not allowed on {request.url.path}"
    return None


def _words(name: str) -> str:
    """``ConcurrencyError`` -> ``concurrency error``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower()
