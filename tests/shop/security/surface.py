"""The shop's HTTP surface: every route of every running service, with who may call it.

Routes come from :func:`evp.web.auth.route_access` on each service's app, so a route added
tomorrow is tested tomorrow; path parameters are filled with plausible values, and a
parameter this module has no value for fails loudly rather than being skipped.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import httpx

from evp.web.auth import Access, route_access
from tests.shop.running import Shop

__all__ = ["BODY_METHODS", "Endpoint", "call", "endpoints"]

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
"""Methods whose requests carry a body."""

_PARAMETER = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")


@dataclass(frozen=True)
class Endpoint:
    """One (method, path template) of one service, and its declared access level."""

    service: str
    method: str
    template: str
    access: Access

    @property
    def path(self) -> str:
        """The template with each parameter filled with a plausible value."""
        return _PARAMETER.sub(lambda match: _plausible(match[1], self.template), self.template)

    def __str__(self) -> str:
        return f"{self.service} {self.method} {self.template}"


def endpoints(shop: Shop, *levels: Access) -> list[Endpoint]:
    """Every endpoint of every running service (only those of ``levels``, when given)."""
    found = [
        Endpoint(name, method, template, access)
        for name, service in shop.services.items()
        for (method, template), access in route_access(service.app).items()
    ]
    return [e for e in found if not levels or e.access in levels]


async def call(
    shop: Shop,
    endpoint: Endpoint,
    headers: dict[str, str] | None = None,
    *,
    content: bytes | None = None,
) -> httpx.Response:
    """``endpoint`` called on its service with ``headers`` (and a body, when given)."""
    service = shop.services[endpoint.service]
    return await service.http.request(
        endpoint.method, endpoint.path, headers=headers, content=content
    )


def _plausible(name: str, template: str) -> str:
    if name.endswith("_id"):
        return str(uuid.uuid4())
    if name == "sku":
        return "BOOK-1"
    raise LookupError(f"no plausible value for {{{name}}} in {template}: add one to surface.py")
