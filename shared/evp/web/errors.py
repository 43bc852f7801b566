"""Errors a service raises from its routes; :mod:`evp.web.problems` turns them into answers.

Which status each error answers with is decided in one table
(:data:`evp.web.problems.STATUS_BY_ERROR`), beside the platform's own errors, so that
the rule has one place. What an error carries beyond its message (a retry delay, the
bad fields) becomes headers and extension members of the problem document.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from evp.errors import EvpError

__all__ = [
    "Conflict",
    "FieldError",
    "Forbidden",
    "InvalidRequest",
    "MalformedRequest",
    "MissingVerifier",
    "NotFound",
    "RateLimited",
    "ServiceError",
    "Unauthorized",
    "Unavailable",
]


class ServiceError(EvpError):
    """Root of the errors services raise to answer a request with a problem."""

    def headers(self) -> Mapping[str, str]:
        """Response headers the error calls for (none, unless a subclass says so)."""
        return {}

    def extensions(self) -> dict[str, Any]:
        """Extension members of the problem document: the error's structured fields."""
        return {
            key: value if isinstance(value, str | int | float | bool) else str(value)
            for key, value in self.fields.items()
        }


class NotFound(ServiceError):
    """The resource does not exist, or is not the caller's to see."""

    def __init__(self, resource: str, resource_id: object) -> None:
        super().__init__(f"no {resource} {resource_id}", resource=resource, id=str(resource_id))
        self.resource = resource
        self.resource_id = resource_id


class Conflict(ServiceError):
    """The request conflicts with the resource's current state (a duplicate, a stale version)."""


class Unauthorized(ServiceError):
    """No valid bearer token: missing, malformed, expired, or not signed by a known key.

    ``reason`` says which; the token itself is never part of the error.
    """

    def __init__(self, reason: str, *, token_given: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.token_given = token_given

    def headers(self) -> Mapping[str, str]:
        # RFC 6750: a 401 names the scheme, plus an error code only when a token was refused.
        if not self.token_given:
            return {"WWW-Authenticate": "Bearer"}
        return {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class Forbidden(ServiceError):
    """The caller is known but may not do this (a customer on an admin route)."""


class RateLimited(ServiceError):
    """Too many requests: the caller may try again after ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after

    def headers(self) -> Mapping[str, str]:
        return {"Retry-After": str(self.retry_after)}


@dataclass(frozen=True)
class FieldError:
    """One bad field: its dotted path (``body.lines.0.quantity``), what is wrong, and a code."""

    field: str
    message: str
    type: str

    def to_dict(self) -> dict[str, str]:
        """The problem document's form of it."""
        return {"field": self.field, "message": self.message, "type": self.type}


class InvalidRequest(ServiceError):
    """The request is well formed but some of its fields are not acceptable (422)."""

    def __init__(self, message: str, errors: Sequence[FieldError] = ()) -> None:
        super().__init__(message)
        self.errors = tuple(errors)

    def __str__(self) -> str:
        named = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
        return f"{self.message}: {named}" if named else self.message

    def extensions(self) -> dict[str, Any]:
        return {**super().extensions(), "errors": [e.to_dict() for e in self.errors]}


class MalformedRequest(InvalidRequest):
    """The request cannot be read at all (its body is not JSON, say) (400)."""


class Unavailable(ServiceError):
    """Something the request needs is unreachable for now (the users service's keys, say)."""

    def __init__(self, message: str, *, dependency: str) -> None:
        super().__init__(message, dependency=dependency)
        self.dependency = dependency


class MissingVerifier(ServiceError):
    """An app declares routes that need a token but was built without a token verifier."""

    def __init__(self, routes: Sequence[str]) -> None:
        super().__init__(
            f"routes need a bearer token but the app has no verifier: {', '.join(routes)}"
        )
        self.routes = tuple(routes)
