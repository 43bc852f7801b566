"""Spec fuzzing: requests generated from each service's own ``/openapi.json`` get no 5xx.

Schemathesis draws requests from every operation's declared parameters and body (valid and
not), the fast Hypothesis profile a handful per operation, ``HYPOTHESIS_PROFILE=thorough``
many more. They are sent with the admin's token, so they reach the handlers rather than
stopping at the token check (which ``test_access`` covers route by route).
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core import NotSet
from schemathesis.core.result import Err

from evp.service.inprocess import RunningService
from tests.shop.running import Shop

SERVICES = ("users", "orders", "inventory", "payments", "notifications", "analytics")
CASES_PER_OPERATION = max(4, settings().max_examples // 4)
"""8 per operation in the fast profile (30 examples), 250 in the thorough one."""


def _cases(operation: Any) -> list[Any]:
    """Requests drawn for ``operation`` (collected first: sending them is async)."""
    drawn: list[Any] = []

    @given(operation.as_strategy())
    @settings(
        max_examples=CASES_PER_OPERATION,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def collect(case: Any) -> None:
        drawn.append(case)

    collect()
    return drawn


async def _send(service: RunningService, case: Any, admin: dict[str, str]) -> tuple[int, str]:
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    headers.update(admin)
    content: bytes | None = None
    if not isinstance(case.body, NotSet):
        content = json.dumps(case.body).encode()
        headers["Content-Type"] = case.media_type or "application/json"
    response = await service.http.request(
        case.method.upper(),
        case.formatted_path,
        params=case.query or None,
        content=content,
        headers=headers,
    )
    return response.status_code, response.text[:300]


async def test_no_generated_request_gets_a_server_error(shop: Shop) -> None:
    """Every operation of every service's OpenAPI document answers its fuzzed requests < 500.

    One test for the six services: the shop boots once (the boot, not the requests, is
    what such a test spends its time on)."""
    failures: list[str] = []
    for name in SERVICES:
        service: RunningService = getattr(shop, name)
        schema = schemathesis.openapi.from_dict(service.app.openapi())
        sent = 0
        for result in schema.get_all_operations():
            if isinstance(result, Err):
                failures.append(f"{name}: an operation schemathesis cannot read: {result.err()}")
                continue
            for case in _cases(result.ok()):
                status, text = await _send(service, case, shop.admin)
                sent += 1
                if status >= 500:
                    failures.append(
                        f"{name}: {case.method.upper()} {case.formatted_path} "
                        f"query={case.query!r} -> {status}: {text}"
                    )
        assert sent >= CASES_PER_OPERATION, name
    assert failures == []
