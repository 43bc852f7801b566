"""``evp serve SERVICE``: run one service as a process, configured from the environment only.

``SERVICE`` is the name of an installed service (the ``evp.services`` entry point group:
the shop's six register themselves there) or a ``module:attribute`` naming a
:class:`~evp.service.Service`. Settings come from the environment
(:class:`~evp.service.ServiceSettings`: ``<SERVICE>_DATABASE_URL``,
``KAFKA_BOOTSTRAP_SERVERS``, ``SCHEMA_REGISTRY_URL``, ``EVP_TOPIC_PREFIX``,
``<SERVICE>_PORT``, ...). It prints where it listens once the service is ready to take
requests, and stops gracefully on SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import socket
from collections.abc import Iterator
from typing import Any

__all__ = ["load_service", "register"]


def register(subparsers: Any) -> None:
    """Add ``evp serve`` to the parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="run one service (HTTP, consumers, outbox relay) until interrupted",
        description="Run one service as a process, configured from the environment. "
        "SERVICE is an installed service's name or module:attribute of a Service.",
    )
    parser.add_argument("service", metavar="SERVICE", help="e.g. orders, or my.module:service")
    parser.add_argument(
        "--port", type=int, help="the HTTP port (default: <SERVICE>_PORT, PORT, else any free)"
    )
    parser.add_argument("--host", help="the address to listen on (default: EVP_HOST or 127.0.0.1)")
    parser.set_defaults(func=run)


def load_service(name: str) -> Any:
    """The :class:`~evp.service.Service` called ``name`` (an installed service's name, or a
    ``module:attribute``); :class:`UnknownService` if none."""
    from evp.service import Service, UnknownService, installed_services

    if ":" not in name:
        return installed_services([name])[name]
    module_name, _, attribute = name.partition(":")
    try:
        found = getattr(importlib.import_module(module_name), attribute, None)
    except ImportError:
        found = None
    if not isinstance(found, Service):
        raise UnknownService(name, known=sorted(installed_services()))
    return found


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; the exit code of ``evp serve``."""
    import uvicorn

    from evp.service import ServiceSettings
    from evp.service.process import listening_line
    from evp.web.logs import configure_logging

    service = load_service(args.service)
    settings = ServiceSettings.from_env(service.name)
    configure_logging(service.name, settings.log_level)
    if args.host:
        settings = settings.replace(host=args.host)
    if args.port is not None:
        settings = settings.replace(port=args.port)
    # Bind before serving, so the address printed is the one taken even for port 0.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((settings.host, settings.port))
    host, port = listener.getsockname()[:2]
    app = service.app(
        settings,
        on_ready=lambda: print(listening_line(service.name, f"http://{host}:{port}"), flush=True),
    )
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=30
    )
    server = _server(config)
    asyncio.run(server.serve(sockets=[listener]))
    if not server.started:
        return 1  # the lifespan failed: uvicorn logged why
    print(f"evp serve: {service.name} stopped", flush=True)
    return 0


def _server(config: Any) -> Any:
    """uvicorn's server, minus re-raising SIGTERM after the graceful stop.

    uvicorn re-raises the signal it caught once it has shut down, so the process dies of
    it (status -15); a supervisor should see a clean exit (0) when the stop went well.
    uvicorn is imported here, not at the top: every ``evp`` command imports this module.
    """
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            with super().capture_signals():
                yield
                self._captured_signals.clear()

    return Server(config)
