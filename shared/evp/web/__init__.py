"""The HTTP side of the service kit: one app factory, problem documents, health, metrics,
JSON logs with correlation ids, request size limits and bearer-token authentication.

Services call :func:`web_app` with their routers; routes declare their access level with
:data:`CurrentUser` / :data:`CurrentAdmin` and raise :class:`ServiceError` subclasses.
"""

from evp.web.app import web_app
from evp.web.auth import (
    Access,
    AccessToken,
    CurrentAdmin,
    CurrentUser,
    KeySet,
    Principal,
    RemoteJwks,
    Role,
    SigningKey,
    TokenIssuer,
    TokenVerifier,
    jwks_router,
    require_admin,
    require_user,
    route_access,
)
from evp.web.errors import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidRequest,
    MalformedRequest,
    MissingVerifier,
    NotFound,
    RateLimited,
    ServiceError,
    Unauthorized,
    Unavailable,
)
from evp.web.health import Check, CheckResult, Readiness, ReadinessReport
from evp.web.limits import DEFAULT_MAX_BODY_BYTES, BodySizeLimitMiddleware
from evp.web.logs import (
    CORRELATION_HEADER,
    LogContext,
    configure_logging,
    current_log_context,
    log_context,
)
from evp.web.problems import PROBLEM_CONTENT_TYPE, STATUS_BY_ERROR, Problem, problem_for_error

__all__ = [
    "CORRELATION_HEADER",
    "DEFAULT_MAX_BODY_BYTES",
    "PROBLEM_CONTENT_TYPE",
    "STATUS_BY_ERROR",
    "Access",
    "AccessToken",
    "BodySizeLimitMiddleware",
    "Check",
    "CheckResult",
    "Conflict",
    "CurrentAdmin",
    "CurrentUser",
    "FieldError",
    "Forbidden",
    "InvalidRequest",
    "KeySet",
    "LogContext",
    "MalformedRequest",
    "MissingVerifier",
    "NotFound",
    "Principal",
    "Problem",
    "RateLimited",
    "Readiness",
    "ReadinessReport",
    "RemoteJwks",
    "Role",
    "ServiceError",
    "SigningKey",
    "TokenIssuer",
    "TokenVerifier",
    "Unauthorized",
    "Unavailable",
    "configure_logging",
    "current_log_context",
    "jwks_router",
    "log_context",
    "problem_for_error",
    "require_admin",
    "require_user",
    "route_access",
    "web_app",
]
