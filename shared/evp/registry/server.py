"""Running the registry under uvicorn: in the foreground (``evp registry serve``) or in a
background thread (tests and :mod:`evp.registry.testing`)."""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
import time
from collections.abc import Coroutine
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import uvicorn
from starlette.types import ASGIApp

from evp.postgres import EmbeddedPostgres
from evp.postgres.database import ensure_database
from evp.registry.app import create_app
from evp.registry.settings import RegistrySettings

__all__ = ["REGISTRY_DATABASE", "BackgroundServer", "embedded_database", "serve"]

REGISTRY_DATABASE = "registry"

T = TypeVar("T")


def serve(settings: RegistrySettings) -> None:
    """Serve the registry until interrupted, on an embedded Postgres unless given a URL."""
    with ExitStack() as stack:
        database_url = settings.database_url
        if database_url is None:
            database_url = embedded_database(stack, settings.data_dir)
        app = create_app(
            database_url, users=settings.users, default_compatibility=settings.compatibility
        )
        _settle_heap()
        # uvicorn serves on httptools and uvloop (dependencies of ours) when they import.
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            ws="none",
            log_level="info",
            access_log=settings.access_log,
        )


def _settle_heap() -> None:
    """Exempt what start-up built from the garbage collector's full collections.

    Those objects (modules, mostly) live as long as the server. Each full collection
    scanned all of them, stalling every request in flight for up to 45 ms on a small
    machine, which set the p99 latency of lookups; frozen, they are never scanned again.
    Collected first, so that no garbage is frozen with them.
    """
    gc.collect()
    gc.freeze()


def embedded_database(
    stack: ExitStack, data_dir: Path | str, *, delete_on_stop: bool = False
) -> str:
    """Start Postgres in ``data_dir/postgres`` (stopped when ``stack`` closes); its registry URL."""
    postgres = stack.enter_context(
        EmbeddedPostgres(Path(data_dir) / "postgres", delete_on_stop=delete_on_stop)
    )
    return run_sync(ensure_database(postgres.url(), REGISTRY_DATABASE))


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion from synchronous code, even inside a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    # Called from async code (an async test, say): a fresh loop needs a thread of its own.
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=target, name="evp-run-sync")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


class BackgroundServer:
    """An ASGI app served by uvicorn on a thread of its own, on ``port`` (0: any free one)."""

    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.port: int = self._socket.getsockname()[1]
        # log_config=None: a server in a test must not reconfigure the process's logging.
        config = uvicorn.Config(app, lifespan="on", ws="none", log_config=None, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            daemon=True,
            name="evp-registry",
        )

    @property
    def url(self) -> str:
        """The base URL clients should use."""
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> str:
        """Start serving; return the URL once the app's start-up has completed."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                self._socket.close()
                raise RuntimeError("the registry server failed to start; see the log above")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"the registry server did not start within {timeout} s")
            time.sleep(0.01)
        return self.url

    def stop(self) -> None:
        """Ask the server to finish its requests and stop, then wait for it."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self._socket.close()

    def __enter__(self) -> BackgroundServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
