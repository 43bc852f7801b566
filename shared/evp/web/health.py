"""Liveness and readiness: ``/health/live`` while the process serves, ``/health/ready`` when
every named check (database, Kafka, registry, relay, consumers) passes.

Checks run concurrently, each under a time limit, so a hung dependency reads as "not
ready" in a bounded time instead of hanging the probe. A check that raises is a failed
check (its error is the detail): finding out whether a dependency works is its job.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

__all__ = ["Check", "CheckResult", "Readiness", "ReadinessReport", "health_router"]

_log = logging.getLogger("evp.web.health")


@dataclass(frozen=True)
class CheckResult:
    """Whether a dependency works; ``detail`` says why not (or anything worth showing)."""

    ok: bool
    detail: str | None = None

    @classmethod
    def passed(cls, detail: str | None = None) -> CheckResult:
        """A passing result."""
        return cls(True, detail)

    @classmethod
    def failed(cls, detail: str) -> CheckResult:
        """A failing result, saying why."""
        return cls(False, detail)

    def to_dict(self) -> dict[str, Any]:
        """The readiness body's form of it."""
        return {"ok": self.ok} if self.detail is None else {"ok": self.ok, "detail": self.detail}


Check = Callable[[], Awaitable[CheckResult]]
"""An async callable telling whether one dependency works."""


@dataclass(frozen=True)
class ReadinessReport:
    """Every check's result; ready when all passed."""

    checks: Mapping[str, CheckResult]

    @property
    def ready(self) -> bool:
        """Whether every check passed."""
        return all(result.ok for result in self.checks.values())

    def to_dict(self) -> dict[str, Any]:
        """The ``/health/ready`` body."""
        return {
            "status": "ready" if self.ready else "not ready",
            "checks": {name: result.to_dict() for name, result in self.checks.items()},
        }


class Readiness:
    """Named checks, each given at most ``timeout`` seconds."""

    def __init__(self, checks: Mapping[str, Check] | None = None, *, timeout: float = 2.0) -> None:
        self.timeout = timeout
        self._checks: dict[str, Check] = dict(checks or {})

    def add(self, name: str, check: Check) -> None:
        """Add a check; a name may be used once."""
        if name in self._checks:
            raise ValueError(f"a readiness check named {name!r} is already registered")
        self._checks[name] = check

    @property
    def names(self) -> tuple[str, ...]:
        """The checks' names, in registration order."""
        return tuple(self._checks)

    async def check(self) -> ReadinessReport:
        """Run every check concurrently and report."""
        results = await asyncio.gather(*(self._run(n, c) for n, c in self._checks.items()))
        return ReadinessReport(dict(zip(self._checks, results, strict=True)))

    async def _run(self, name: str, check: Check) -> CheckResult:
        try:
            async with asyncio.timeout(self.timeout):
                return await check()
        except TimeoutError:
            return CheckResult.failed(f"no answer within {self.timeout:g} s")
        except Exception as error:
            _log.warning("readiness check %s failed", name, exc_info=error)
            return CheckResult.failed(f"{type(error).__name__}: {error}")


def health_router() -> APIRouter:
    """``/health/live`` and ``/health/ready``; the checks are ``app.state.readiness``."""
    router = APIRouter(prefix="/health", tags=["health"])

    @router.get("/live", summary="Whether the process serves requests")
    async def live() -> dict[str, str]:
        return {"status": "live"}

    @router.get(
        "/ready",
        summary="Whether every dependency works",
        responses={503: {"description": "Some dependency does not work; the body names it"}},
    )
    async def ready(request: Request) -> Response:
        readiness: Readiness = request.app.state.readiness
        report = await readiness.check()
        return JSONResponse(report.to_dict(), status_code=200 if report.ready else 503)

    return router
