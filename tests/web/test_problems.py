"""Every error answers as an RFC 9457 problem document, with the status from one table."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any, Protocol

import pytest
from fastapi.testclient import TestClient

from evp.avro.errors import EncodeError
from evp.errors import EvpError
from evp.eventstore.errors import (
    AggregateNotFound,
    ConcurrencyError,
    RecorderError,
    StoreUnavailable,
)
from evp.messaging.errors import RegistryUnavailable
from evp.web import (
    PROBLEM_CONTENT_TYPE,
    Conflict,
    Forbidden,
    InvalidRequest,
    MalformedRequest,
    NotFound,
    RateLimited,
    TokenIssuer,
    Unauthorized,
    problem_for_error,
)
from evp.web.problems import status_for
from tests.web.conftest import bearer
from tests.web.sample import SECRET_IN_ERROR

STANDARD_MEMBERS = {"type", "title", "status", "detail", "instance"}


class Answer(Protocol):
    """What the test client's responses offer (its HTTP library varies by Starlette version)."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    def json(self) -> Any: ...


def assert_problem(response: Answer, status: int) -> dict[str, object]:
    """Check the response is a problem document with ``status``; return its body."""
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    body: dict[str, object] = response.json()
    assert body.keys() >= STANDARD_MEMBERS
    assert body["status"] == status
    return body


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFound("order", 1), 404),
        (Conflict("already exists"), 409),
        (Unauthorized("no token"), 401),
        (Forbidden("admins only"), 403),
        (RateLimited("slow down", retry_after=1), 429),
        (InvalidRequest("bad"), 422),
        (MalformedRequest("unreadable"), 400),
        (ConcurrencyError("s", expected_version=1, actual_version=2), 409),
        (AggregateNotFound("Order", "o-1"), 404),
        (EncodeError("too many places", record="Order", field_path="total"), 422),
        (RegistryUnavailable("down", registry="http://registry"), 503),
        (RecorderError("disk full", operation="append"), 500),
        (StoreUnavailable("connection refused", operation="append"), 503),
        (EvpError("anything else"), 500),
    ],
)
def test_status_table(error: EvpError, status: int) -> None:
    """Each platform error answers with the status the table gives its nearest class."""
    assert status_for(error) == status


def test_unknown_route_is_a_404_problem(client: TestClient) -> None:
    """A path no route serves answers 404 as a problem naming the path."""
    body = assert_problem(client.get("/no/such/thing"), 404)
    assert body["instance"] == "/no/such/thing"
    assert body["type"] == "about:blank"


def test_wrong_method_is_a_405_problem_with_allow(client: TestClient) -> None:
    """A known path with the wrong method answers 405 and keeps the Allow header."""
    response = client.put("/catalog/sku-1")
    assert_problem(response, 405)
    assert response.headers["allow"] == "GET"


def test_service_not_found_carries_its_fields(client: TestClient, issuer: TokenIssuer) -> None:
    """A NotFound raised by a route answers 404 with its resource as extension members."""
    order_id = uuid.uuid4()
    body = assert_problem(client.get(f"/orders/{order_id}", headers=bearer(issuer)), 404)
    assert body["resource"] == "order"
    assert body["id"] == str(order_id)
    assert body["type"] == "urn:evp:problem:not-found"


def test_concurrency_error_is_a_409_problem(client: TestClient) -> None:
    """The event store's ConcurrencyError answers 409 naming the stream and both versions."""
    body = assert_problem(client.post("/streams/order-1"), 409)
    assert body["stream_id"] == "order-1"
    assert (body["expected_version"], body["actual_version"]) == (3, 4)


def test_rate_limited_is_a_429_with_retry_after(client: TestClient) -> None:
    """RateLimited answers 429 with a Retry-After header."""
    response = client.get("/limited")
    assert_problem(response, 429)
    assert response.headers["retry-after"] == "7"


def test_every_bad_field_is_named(client: TestClient, issuer: TokenIssuer) -> None:
    """A body with two bad fields answers 422 with one entry per field, by dotted path."""
    order = {"email": "not an email", "lines": [{"sku": "sku-1", "quantity": 0}]}
    response = client.post("/orders", json=order, headers=bearer(issuer))
    errors = assert_problem(response, 422)["errors"]
    assert isinstance(errors, list)
    assert [(e["field"], e["type"]) for e in errors] == [
        ("body.email", "string_pattern_mismatch"),
        ("body.lines.0.quantity", "greater_than"),
    ]
    assert all(e["message"] for e in errors)


def test_validation_never_echoes_the_input(client: TestClient, issuer: TokenIssuer) -> None:
    """A rejected value is not copied into the problem (it could be a password)."""
    order = {"email": "hunter2-secret", "lines": []}
    response = client.post("/orders", json=order, headers=bearer(issuer))
    assert_problem(response, 422)
    assert "hunter2-secret" not in response.text


def test_malformed_json_is_a_400_naming_the_body(client: TestClient, issuer: TokenIssuer) -> None:
    """A body that is not JSON answers 400 with one error naming the body."""
    headers = {**bearer(issuer), "Content-Type": "application/json"}
    body = assert_problem(client.post("/orders", content=b'{"email": ', headers=headers), 400)
    errors = body["errors"]
    assert isinstance(errors, list)
    assert [e["field"] for e in errors] == ["body"]


def test_unexpected_exception_is_a_generic_500(client: TestClient) -> None:
    """An exception no handler takes answers 500 without its message."""
    response = client.get("/boom")
    body = assert_problem(response, 500)
    assert SECRET_IN_ERROR not in response.text
    assert "RuntimeError" not in response.text
    assert body["instance"] == "/boom"


def test_unexpected_exception_is_logged_with_traceback(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """The 500's exception goes to the log, with its traceback."""
    with caplog.at_level(logging.ERROR, logger="evp.web.problems"):
        client.get("/boom")
    [record] = [r for r in caplog.records if r.name == "evp.web.problems"]
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)


def test_server_side_error_hides_its_message() -> None:
    """A typed error answering 5xx gets a generic detail and no extension members."""
    problem = problem_for_error(RecorderError("relation orders does not exist", operation="x"))
    assert problem.status == 500
    assert "relation" not in str(problem.to_dict())


def test_standard_members_win_over_extensions() -> None:
    """An error field named like a standard member cannot overwrite it."""
    problem = problem_for_error(Conflict("taken", status="active", title="t"))
    assert problem.to_dict()["status"] == 409
    assert problem.to_dict()["title"] == "Conflict"
