"""The child processes of the platform: the broker, the registry, the mail sink, the services.

Each is started on a free port the child picks itself and prints (no race for a port
found beforehand); once it has one, restarts reuse it (:attr:`ChildSpec.pin`), so the
URLs other children were given, and the state file, stay right.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from evp.service.process import LISTENING
from evp.service.settings import port_variable
from evp.up.child import ChildSpec
from evp.up.probes import http_ready, kafka_answers, registry_answers, smtp_accepts

__all__ = ["broker_spec", "mailsink_spec", "registry_spec", "service_spec"]

_PYTHON = sys.executable
_BOOTSTRAP = re.compile(r"^(?P<address>[\w.\-]+:\d+(?:,[\w.\-]+:\d+)*)$")
_UVICORN = re.compile(r"Uvicorn running on (?P<address>https?://\S+)")
_MAILSINK = re.compile(r"evp mailsink: listening on (?P<address>\S+)")


def broker_spec(env: Mapping[str, str], logs: Path) -> ChildSpec:
    """``evp broker``: the first line it prints is the bootstrap address."""

    async def probe(address: str) -> None:
        await kafka_answers(address)

    def pin(spec: ChildSpec, address: str) -> ChildSpec:
        # A restarted broker gets new ports; a forwarder on the old one keeps the address.
        return replace(spec, argv=(*spec.argv, "--port", address.rsplit(":", 1)[1]))

    return ChildSpec(
        name="broker",
        group="broker",
        argv=(_PYTHON, "-m", "evp", "broker"),
        env=env,
        ready=_BOOTSTRAP,
        probe=probe,
        pin=pin,
        log=logs / "broker.log",
    )


def registry_spec(env: Mapping[str, str], logs: Path, *, host: str, database_url: str) -> ChildSpec:
    """``evp registry serve`` on ``database_url``; ready once ``GET /subjects`` answers."""

    async def probe(address: str) -> None:
        await registry_answers(address)

    return ChildSpec(
        name="registry",
        group="registry",
        argv=(
            _PYTHON,
            "-m",
            "evp",
            "registry",
            "serve",
            *_listen(host),
            "--database-url",
            database_url,
        ),
        env={**env, "EVP_REGISTRY_ACCESS_LOG": "false"},
        ready=_UVICORN,
        probe=probe,
        pin=_pin_port_flag,
        log=logs / "registry.log",
    )


def mailsink_spec(env: Mapping[str, str], logs: Path, *, host: str, maildir: Path) -> ChildSpec:
    """The platform's SMTP sink (:mod:`evp.up.mailsink`), keeping mail in ``maildir``."""

    async def probe(address: str) -> None:
        await smtp_accepts(address)

    return ChildSpec(
        name="smtp",
        group="smtp",
        argv=(_PYTHON, "-m", "evp.up.mailsink", "--maildir", str(maildir), *_listen(host)),
        env=env,
        ready=_MAILSINK,
        probe=probe,
        pin=_pin_port_flag,
        log=logs / "smtp.log",
    )


def service_spec(
    service: str,
    instance: int,
    env: Mapping[str, str],
    logs: Path,
    *,
    target: str | None = None,
) -> ChildSpec:
    """``evp serve SERVICE``, instance ``instance`` (1-based); ready on ``/health/ready``.

    ``target`` serves another :class:`~evp.service.Service` under that name (a
    ``module:attribute``, as ``evp serve`` takes it).
    """
    name = service if instance == 1 else f"{service}.{instance}"
    variable = port_variable(service)

    async def probe(address: str) -> None:
        await http_ready(address)

    def pin(spec: ChildSpec, address: str) -> ChildSpec:
        return spec.with_env(**{variable: str(urlsplit(address).port)})

    return ChildSpec(
        name=name,
        group=service,
        argv=(_PYTHON, "-m", "evp", "serve", target or service),
        env={**env, variable: "0"},
        ready=LISTENING,
        probe=probe,
        pin=pin,
        log=logs / f"{name}.log",
    )


def _listen(host: str) -> tuple[str, ...]:
    # Port 0: the child takes a free port and prints it (no race for one found beforehand).
    return ("--host", host, "--port", "0")


def _pin_port_flag(spec: ChildSpec, address: str) -> ChildSpec:
    port = address.rsplit(":", 1)[1].strip("/")
    argv = list(spec.argv)
    argv[argv.index("--port") + 1] = port
    return replace(spec, argv=tuple(argv))
