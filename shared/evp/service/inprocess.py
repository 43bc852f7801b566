"""A service run inside this process, as ``evp serve`` runs it, with a client on its app.

::

    async with running_service(payments, settings) as bank:
        response = await bank.http.get("/health/ready")

Its lifespan starts every part (database, bus, relay, projections); HTTP requests go
through the whole app (middleware, auth, problem responses) without a socket, as
Starlette's ``TestClient`` does. Tests, the demo and benchmarks use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
from fastapi import FastAPI

from evp.service.runtime import ServiceRuntime
from evp.service.service import Service
from evp.service.settings import ServiceSettings
from evp.tracing import Tracing
from evp.web.auth import TokenVerifier

__all__ = ["RunningService", "running_service"]


@dataclasses.dataclass(frozen=True)
class RunningService:
    """A service started in a test: its app, an HTTP client on it, and its running parts."""

    app: FastAPI
    http: httpx.AsyncClient
    runtime: ServiceRuntime
    url: str | None = None
    """Where it also listens on a real socket (``serve_http=True``), e.g. for its JWKS."""

    async def wait_for(
        self,
        condition: Callable[[], Awaitable[bool]] | Callable[[], bool],
        *,
        timeout: float = 15.0,
        interval: float = 0.02,
    ) -> None:
        """Wait until ``condition`` (sync or async) holds; :class:`TimeoutError` otherwise."""
        async with asyncio.timeout(timeout):
            while True:
                outcome = condition()
                if isinstance(outcome, Awaitable):
                    outcome = await outcome
                if outcome:
                    return
                await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def running_service(
    service: Service,
    settings: ServiceSettings,
    *,
    assigned: bool = True,
    verifier: TokenVerifier | None = None,
    serve_http: bool = False,
    tracing: Tracing | None = None,
) -> AsyncIterator[RunningService]:
    """Start ``service`` with ``settings`` (its consumers assigned, unless told not to wait).

    ``verifier`` replaces the one the settings describe (a test's own key set);
    ``serve_http`` also serves the app on a free local port, for clients that need a real
    socket (other services fetching the users service's JWKS); ``tracing`` exports the
    service's spans where a test can read them.
    """
    app = service.app(settings, verifier=verifier, tracing=tracing)
    async with app.router.lifespan_context(app):
        runtime: ServiceRuntime = app.state.runtime
        if assigned:
            await runtime.bus.wait_assigned()
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://service") as http,
            _served(app, enabled=serve_http) as url,
        ):
            yield RunningService(app, http, runtime, url)


@contextlib.asynccontextmanager
async def _served(app: FastAPI, *, enabled: bool) -> AsyncIterator[str | None]:
    """Serve ``app`` (its lifespan already running) on a free local port, on this loop."""
    if not enabled:
        yield None
        return
    import uvicorn

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    host, port = listener.getsockname()[:2]
    config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task
        listener.close()
