"""JSON logs carrying the service, correlation id and trace ids, and never a secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from evp.web import CORRELATION_HEADER, TokenIssuer, configure_logging, log_context
from evp.web.logs import parse_traceparent
from tests.web.conftest import bearer

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_SPAN}-01"


class Lines:
    """The JSON lines written to a stream."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    def all(self) -> list[dict[str, object]]:
        """Every line, parsed."""
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    def access(self) -> list[dict[str, object]]:
        """The request log's lines."""
        return [line for line in self.all() if line["logger"] == "evp.web.access"]


@pytest.fixture
def lines() -> Iterator[Lines]:
    """The process's logs as JSON lines, for the duration of a test."""
    root = logging.getLogger()
    level = root.level
    captured = Lines()
    handler = configure_logging("sample", stream=captured.stream)
    try:
        yield captured
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_request_line_carries_the_callers_ids(client: TestClient, lines: Lines) -> None:
    """A request's log line has its correlation id, the traceparent's trace id, and the route."""
    client.get(
        "/catalog/sku-9", headers={CORRELATION_HEADER: "order-42", "traceparent": TRACEPARENT}
    )
    [line] = lines.access()
    assert line["service"] == "sample"
    assert line["correlation_id"] == "order-42"
    assert line["trace_id"] == TRACE_ID
    assert line["parent_span_id"] == PARENT_SPAN
    assert line["span_id"] != PARENT_SPAN
    assert (line["method"], line["route"], line["status"]) == ("GET", "/catalog/{sku}", 200)
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "INFO"


def test_fresh_ids_when_the_caller_sends_none(client: TestClient, lines: Lines) -> None:
    """Without headers, a fresh correlation id is logged and echoed on the response."""
    response = client.get("/catalog/sku-9")
    [line] = lines.access()
    assert line["correlation_id"] == response.headers[CORRELATION_HEADER]
    assert isinstance(line["trace_id"], str)
    assert len(line["trace_id"]) == 32


def test_correlation_id_is_echoed(client: TestClient) -> None:
    """The caller's X-Correlation-Id comes back on the response."""
    response = client.get("/catalog/sku-9", headers={CORRELATION_HEADER: "abc-123"})
    assert response.headers[CORRELATION_HEADER] == "abc-123"


def test_unsafe_correlation_id_is_replaced(client: TestClient) -> None:
    """A correlation id that is not a short printable token is replaced, not echoed."""
    response = client.get("/catalog/sku-9", headers={CORRELATION_HEADER: "a b\tc" * 50})
    assert response.headers[CORRELATION_HEADER] != "a b\tc" * 50


def test_error_log_carries_the_request_ids(client: TestClient, lines: Lines) -> None:
    """The traceback of a 500 is logged as JSON under the request's correlation id."""
    client.get("/boom", headers={CORRELATION_HEADER: "boom-1"})
    [error] = [line for line in lines.all() if line["level"] == "ERROR"]
    assert error["correlation_id"] == "boom-1"
    assert "RuntimeError" in str(error["exc_info"])


def test_authorization_header_never_logged(
    client: TestClient, issuer: TokenIssuer, lines: Lines
) -> None:
    """No log line holds the bearer token, on success, refusal or failure."""
    headers = bearer(issuer)
    token = headers["Authorization"].removeprefix("Bearer ")
    client.get("/admin/stats", headers=headers)  # 403
    client.get("/boom", headers=headers)  # 500, logged with its traceback
    client.get("/catalog/x", headers=headers)  # 200
    output = lines.stream.getvalue()
    assert len(lines.access()) == 3
    assert token not in output
    assert "Authorization" not in output
    assert "authorization" not in output


def test_secret_named_fields_are_redacted(lines: Lines) -> None:
    """Extra fields named like secrets are redacted, even nested."""
    logging.getLogger("sample").warning(
        "signing up", extra={"password": "hunter2", "user": {"email": "a@b", "api_key": "k"}}
    )
    [line] = lines.all()
    assert line["password"] == "[redacted]"
    assert line["user"] == {"email": "a@b", "api_key": "[redacted]"}


def test_log_context_applies_outside_requests(lines: Lines) -> None:
    """The consumer side's log_context puts an event's correlation id on every line."""
    with log_context("event-corr-7") as context:
        logging.getLogger("evp.consumer").info("handled")
    logging.getLogger("evp.consumer").info("after")
    inside, after = lines.all()
    assert inside["correlation_id"] == "event-corr-7"
    assert inside["trace_id"] == context.trace_id
    assert after["correlation_id"] is None


@pytest.mark.parametrize(
    "header",
    [
        "",
        "00-xyz-00f067aa0ba902b7-01",
        f"00-{'0' * 32}-{PARENT_SPAN}-01",
        f"00-{TRACE_ID}-{'0' * 16}-01",
    ],
)
def test_invalid_traceparent_is_ignored(header: str) -> None:
    """A malformed or all-zero traceparent parses as none."""
    assert parse_traceparent(header) is None


def test_valid_traceparent_parses() -> None:
    """A W3C traceparent gives its trace id and parent span id."""
    assert parse_traceparent(TRACEPARENT) == (TRACE_ID, PARENT_SPAN)
