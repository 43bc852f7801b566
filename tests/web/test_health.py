"""Liveness, and readiness from named checks run concurrently under a time limit."""

from __future__ import annotations

import asyncio
import time

import pytest
from fastapi.testclient import TestClient

from evp.web import CheckResult, Readiness, TokenVerifier
from tests.web.sample import sample_app


async def passing() -> CheckResult:
    """A dependency that works."""
    return CheckResult.passed()


async def failing() -> CheckResult:
    """A dependency that reports itself down."""
    return CheckResult.failed("broker unreachable at kafka:9092")


async def hanging() -> CheckResult:
    """A dependency that never answers."""
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def raising() -> CheckResult:
    """A check that fails by raising."""
    raise ConnectionRefusedError("connection refused")


def ready(verifier: TokenVerifier, readiness: Readiness) -> tuple[int, dict[str, object]]:
    """The status and body of /health/ready for an app with ``readiness``."""
    with TestClient(sample_app(verifier, readiness=readiness)) as client:
        response = client.get("/health/ready")
        return response.status_code, response.json()


def test_live_answers_while_serving(client: TestClient) -> None:
    """/health/live answers 200 with no checks at all."""
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "live"}


def test_ready_when_every_check_passes(verifier: TokenVerifier) -> None:
    """All checks passing answers 200 and lists each."""
    status, body = ready(verifier, Readiness({"database": passing, "kafka": passing}))
    assert status == 200
    assert body == {"status": "ready", "checks": {"database": {"ok": True}, "kafka": {"ok": True}}}


def test_not_ready_names_the_failing_check(verifier: TokenVerifier) -> None:
    """One failing check answers 503, and the body names it with its detail."""
    status, body = ready(verifier, Readiness({"database": passing, "kafka": failing}))
    assert status == 503
    assert body["status"] == "not ready"
    assert body["checks"] == {
        "database": {"ok": True},
        "kafka": {"ok": False, "detail": "broker unreachable at kafka:9092"},
    }


def test_hanging_check_times_out_as_not_ready(verifier: TokenVerifier) -> None:
    """A check that never answers reads as not ready once its time limit passes."""
    readiness = Readiness({"registry": hanging, "database": passing}, timeout=0.2)
    started = time.monotonic()
    status, body = ready(verifier, readiness)
    assert time.monotonic() - started < 5
    assert status == 503
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert checks["registry"] == {"ok": False, "detail": "no answer within 0.2 s"}


def test_raising_check_is_a_failed_check(verifier: TokenVerifier) -> None:
    """A check that raises is reported failed with the error, not as a 500."""
    status, body = ready(verifier, Readiness({"database": raising}))
    assert status == 503
    assert body["checks"] == {
        "database": {"ok": False, "detail": "ConnectionRefusedError: connection refused"}
    }


async def test_checks_run_concurrently() -> None:
    """Three slow checks take about one check's time, not three."""

    async def slow() -> CheckResult:
        await asyncio.sleep(0.2)
        return CheckResult.passed()

    readiness = Readiness({"a": slow, "b": slow, "c": slow})
    started = time.monotonic()
    report = await readiness.check()
    assert report.ready
    assert time.monotonic() - started < 0.5


def test_a_check_name_is_used_once() -> None:
    """Adding a second check under a taken name is refused."""
    readiness = Readiness({"database": passing})
    with pytest.raises(ValueError, match="database"):
        readiness.add("database", passing)
