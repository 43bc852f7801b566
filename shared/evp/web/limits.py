"""A cap on request body size, answered with a 413 problem before the app sees the body.

The declared ``Content-Length`` is checked first, so an honest oversized request is refused
without reading a byte of it. A chunked body (or one that lies about its length) is read
up to the cap and refused the moment it passes it. A body within the cap is buffered and
replayed to the app: services take JSON, which is read whole anyway, and the cap bounds
what the buffer can hold.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from evp.web.problems import Problem

__all__ = ["DEFAULT_MAX_BODY_BYTES", "BodySizeLimitMiddleware"]

DEFAULT_MAX_BODY_BYTES = 1024 * 1024


class BodySizeLimitMiddleware:
    """Refuse HTTP requests whose body exceeds ``max_body_bytes`` with 413."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        if max_body_bytes < 0:
            raise ValueError(f"max_body_bytes must not be negative, not {max_body_bytes}")
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await self._refuse(scope, receive, send, f"{declared} bytes declared")
            return
        buffered: list[Message] = []
        size = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break  # the client went away: let the app see the disconnect
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                await self._refuse(scope, receive, send, f"{size} bytes received so far")
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, found: str) -> None:
        problem = Problem.of_status(
            413,
            f"the request body may hold at most {self.max_body_bytes} bytes ({found})",
            instance=scope.get("path"),
        )
        # The rest of the body is left unread: the connection cannot be reused.
        response = problem.response()
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
