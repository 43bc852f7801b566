"""The overview page's rows: every process with its health, restarts, pid, URL and links.

Health is asked of each process when the page asks (the page polls every few seconds):
a service answers ``/health/ready`` (its body says why it is not ready), the registry
``/subjects``; the broker and the mail sink count as up while their process runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx

from evp.console.platform import SHOP_SERVICES, ProcessInfo

__all__ = ["process_rows"]

_PROBE_TIMEOUT_S = 1.5


async def process_rows(
    client: httpx.AsyncClient,
    processes: Sequence[ProcessInfo],
    *,
    registry_auth: tuple[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One row per process, probed concurrently (the registry with ``registry_auth``)."""
    rows = (_row(client, process, registry_auth) for process in processes)
    return list(await asyncio.gather(*rows))


async def _row(
    client: httpx.AsyncClient, process: ProcessInfo, registry_auth: tuple[str, str] | None
) -> dict[str, Any]:
    health, detail = await _health(client, process, registry_auth)
    return {
        "name": process.name,
        "group": process.group,
        "kind": "service" if process.group in SHOP_SERVICES else "infrastructure",
        "pid": process.pid,
        "address": process.address,
        "restarts": process.restarts,
        "health": health,
        "detail": detail,
        "log": str(process.log) if process.log else None,
        "links": _links(process),
    }


async def _health(
    client: httpx.AsyncClient, process: ProcessInfo, registry_auth: tuple[str, str] | None
) -> tuple[str, Any]:
    if process.pid is None:
        return "down", "not running (restarting)"
    address = process.address or ""
    auth = None
    if process.group in SHOP_SERVICES:
        url = f"{address}/health/ready"
    elif process.group == "registry":
        url, auth = f"{address}/subjects", registry_auth
    else:
        return "up", None
    try:
        answer = await client.get(url, timeout=_PROBE_TIMEOUT_S, auth=auth)
    except httpx.HTTPError as error:
        return "unreachable", f"{type(error).__name__}: {error}"
    if answer.status_code == 200:
        return "ready", None
    try:
        detail: Any = answer.json()
    except ValueError:
        detail = answer.text[:500]
    return "not ready", detail


def _links(process: ProcessInfo) -> dict[str, str]:
    address = process.address or ""
    if process.group in SHOP_SERVICES and address:
        return {
            "health": f"{address}/health/ready",
            "metrics": f"{address}/metrics",
            "openapi": f"{address}/openapi.json",
            "docs": f"{address}/docs",
            "asyncapi": f"{address}/asyncapi.json",
        }
    if process.group == "registry" and address:
        return {"subjects": f"{address}/subjects", "config": f"{address}/config"}
    return {}
