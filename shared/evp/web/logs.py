"""Structured JSON logs, each line carrying the service, correlation id and trace ids.

The ids live in a context variable, set per request by :class:`RequestContextMiddleware`
(from ``X-Correlation-Id`` and a W3C ``traceparent``, else fresh) and per message by the
consumer side through :func:`log_context`; a filter on the handler copies them onto every
record, so any logger in the process (ours, uvicorn's, a driver's) logs them.

Secrets stay out: request headers are never logged, and fields named like a secret
(``authorization``, ``password``, ``token`` …) are redacted from any record's extras.
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TextIO

from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from evp.web.routing import route_template

__all__ = [
    "CORRELATION_HEADER",
    "REDACTED",
    "SECRET_NAMES",
    "LogContext",
    "RequestContextMiddleware",
    "configure_logging",
    "current_log_context",
    "log_context",
    "parse_traceparent",
]

CORRELATION_HEADER = "X-Correlation-Id"

_access_log = logging.getLogger("evp.web.access")

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
# A caller's correlation id is echoed and logged: keep it to a short, printable token.
_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
SECRET_NAMES = re.compile(r"authorization|password|passwd|secret|token|api[_-]?key", re.I)
"""Field names whose values are never logged (nor shown where a log would show them)."""
REDACTED = "[redacted]"


@dataclass(frozen=True)
class LogContext:
    """The ids every log line carries while they are current."""

    correlation_id: str | None = None
    trace_id: str | None = None
    span_id: str | None = None


_context: ContextVar[LogContext] = ContextVar("evp_log_context", default=LogContext())  # noqa: B039


def current_log_context() -> LogContext:
    """The ids in effect (all ``None`` outside a request or message)."""
    return _context.get()


@contextmanager
def log_context(
    correlation_id: str | uuid.UUID | None = None,
    *,
    trace_id: str | None = None,
    span_id: str | None = None,
) -> Iterator[LogContext]:
    """Make these ids current for the block; a missing trace id is made fresh.

    The consumer side calls it around each message, with the event's correlation id.
    """
    context = LogContext(
        correlation_id=str(correlation_id) if correlation_id is not None else None,
        trace_id=trace_id or secrets.token_hex(16),
        span_id=span_id or secrets.token_hex(8),
    )
    token = _context.set(context)
    try:
        yield context
    finally:
        _context.reset(token)


def parse_traceparent(header: str) -> tuple[str, str] | None:
    """The (trace id, parent span id) of a W3C ``traceparent``; ``None`` when invalid."""
    match = _TRACEPARENT.match(header.strip().lower())
    if match is None or set(match[1]) == {"0"} or set(match[2]) == {"0"}:
        return None
    return match[1], match[2]


class _ContextFilter(logging.Filter):
    """Copies the service name and current ids onto each record."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        record.service = self.service
        record.correlation_id = context.correlation_id
        record.trace_id = context.trace_id
        record.span_id = context.span_id
        return True


class _RedactingJsonFormatter(JsonFormatter):
    """python-json-logger's formatter, with secret-named fields redacted."""

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: _redact(key, value) for key, value in log_data.items()}


def _redact(key: str, value: Any) -> Any:
    if SECRET_NAMES.search(key):
        return REDACTED
    if isinstance(value, dict):
        return {str(k): _redact(str(k), v) for k, v in value.items()}
    return value


def configure_logging(
    service: str, level: int | str = logging.INFO, *, stream: TextIO | None = None
) -> logging.Handler:
    """Send the root logger's records to ``stream`` (stderr) as JSON lines; the handler.

    Calling it again replaces the handler it installed before, and leaves others (a test
    runner's capture, say) in place.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_evp_json", False):
            root.removeHandler(handler)
            handler.close()
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(
        _RedactingJsonFormatter(
            ["asctime", "levelname", "name", "message"],
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(_ContextFilter(service))
    handler._evp_json = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return handler


class RequestContextMiddleware:
    """Sets each request's ids, echoes ``X-Correlation-Id``, and logs one line per request.

    The line names the method, the route template (and path), the status and the duration;
    never a header or the query string, which may hold credentials.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation_id, trace = _incoming_ids(scope)
        status = 500
        echo = (CORRELATION_HEADER.lower().encode(), correlation_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), echo]}
            await send(message)

        started = time.perf_counter()
        with log_context(correlation_id, trace_id=trace[0] if trace else None):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                _access_log.info(
                    "%s %s %d",
                    scope["method"],
                    scope["path"],
                    status,
                    extra={
                        "method": scope["method"],
                        "route": route_template(scope),
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                        "parent_span_id": trace[1] if trace else None,
                    },
                )


def _incoming_ids(scope: Scope) -> tuple[str, tuple[str, str] | None]:
    correlation_id: str | None = None
    trace: tuple[str, str] | None = None
    for name, value in scope.get("headers", ()):
        if name == b"x-correlation-id":
            candidate = value.decode("latin-1")
            if _CORRELATION_ID.match(candidate):
                correlation_id = candidate
        elif name == b"traceparent":
            trace = parse_traceparent(value.decode("latin-1"))
    return correlation_id or str(uuid.uuid4()), trace
