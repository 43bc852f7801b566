"""Request bodies over the cap answer 413, whether declared or streamed."""

from __future__ import annotations

import json
from collections.abc import Iterator

from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from evp.web import PROBLEM_CONTENT_TYPE, BodySizeLimitMiddleware

CAP = 1024  # the sample app's


def chunks(total: int, size: int = 256) -> Iterator[bytes]:
    """A JSON object of ``total`` bytes, sent in pieces (a chunked body)."""
    document = json.dumps({"pad": "x" * (total - 11)}).encode()
    assert len(document) == total
    for start in range(0, total, size):
        yield document[start : start + size]


def test_body_within_the_cap_reaches_the_route(client: TestClient) -> None:
    """A body under the cap is read by the route as usual."""
    response = client.post("/catalog/echo", json={"a": 1, "b": 2})
    assert response.status_code == 200
    assert response.json() == {"keys": 2}


def test_declared_length_over_the_cap_is_a_413(client: TestClient) -> None:
    """A Content-Length over the cap answers 413 as a problem."""
    response = client.post("/catalog/echo", json={"pad": "x" * CAP})
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert str(CAP) in response.json()["detail"]


def test_chunked_body_over_the_cap_is_a_413(client: TestClient) -> None:
    """A chunked body (no Content-Length) that passes the cap answers 413."""
    response = client.post(
        "/catalog/echo", content=chunks(CAP * 2), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE


def test_chunked_body_within_the_cap_is_replayed(client: TestClient) -> None:
    """A chunked body under the cap reaches the route whole."""
    response = client.post(
        "/catalog/echo", content=chunks(CAP - 24), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200
    assert response.json() == {"keys": 1}


async def test_streaming_stops_reading_at_the_cap() -> None:
    """Past the cap the middleware stops reading and never calls the app."""
    pieces = [b"x" * 600, b"x" * 600, b"x" * 600]
    read: list[int] = []
    sent: list[Message] = []

    async def receive() -> Message:
        read.append(len(read))
        return {"type": "http.request", "body": pieces[len(read) - 1], "more_body": True}

    async def send(message: Message) -> None:
        sent.append(message)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("the app must not be called")

    middleware = BodySizeLimitMiddleware(app, max_body_bytes=1000)
    scope: Scope = {"type": "http", "method": "POST", "path": "/x", "headers": []}
    await middleware(scope, receive, send)
    assert len(read) == 2
    assert sent[0]["status"] == 413
