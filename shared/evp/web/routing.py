"""The routes an app serves, as their full path templates, and which one served a request.

FastAPI (0.130 and later) keeps included routers as branches rather than copying their
routes, so ``app.routes`` no longer lists the endpoints, and the route a request matched
(``scope["route"]``) carries its path without the prefixes it was included under. Its
public :func:`fastapi.routing.iter_route_contexts` resolves both; this module is the one
place that relies on it.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Any, NamedTuple

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute, Route
from starlette.types import Scope

__all__ = ["UNMATCHED", "ServedRoute", "route_template", "served_routes"]

UNMATCHED = "<unmatched>"
"""The template of a request no route matched: one label, however many paths are probed."""


class ServedRoute(NamedTuple):
    """One endpoint as served: its route, full path template, methods and dependencies."""

    route: BaseRoute
    path: str
    methods: frozenset[str]
    dependant: Dependant | None
    """The effective dependency tree (router-level dependencies included); ``None`` for
    plain Starlette routes, which cannot declare dependencies."""


def served_routes(routes: list[BaseRoute]) -> Iterator[ServedRoute]:
    """Every HTTP endpoint among ``routes`` (an app's), included routers resolved."""
    for context in iter_route_contexts(routes):
        route = context.original_route
        if not isinstance(route, APIRoute | Route):
            continue  # mounts and websockets have no methods of their own
        path = context.path_format or context.path
        if path is None:
            continue
        dependant = context.dependant if isinstance(route, APIRoute) else None
        yield ServedRoute(route, path, frozenset(context.methods or ()), dependant)


# Routes are not hashable (they compare by value), so they are keyed by identity; each
# entry keeps its route alive, so an id cannot be reused while the entry exists.
_TemplateMap = dict[int, tuple[BaseRoute, str]]
_templates: weakref.WeakKeyDictionary[Any, _TemplateMap] = weakref.WeakKeyDictionary()


def route_template(scope: Scope) -> str:
    """The full path template of the route that served ``scope`` (once the router has run)."""
    route = scope.get("route")
    if not isinstance(route, BaseRoute):
        return UNMATCHED
    app = scope.get("app")
    known = _templates.get(app) if app is not None else None
    if known is None or id(route) not in known:
        # Built on first use, and rebuilt when a route was added since.
        known = _template_map(getattr(app, "routes", []))
        if app is not None:
            _templates[app] = known
    entry = known.get(id(route))
    if entry is not None and entry[0] is route:
        return entry[1]
    return getattr(route, "path", None) or UNMATCHED


def _template_map(routes: list[BaseRoute]) -> _TemplateMap:
    paths: dict[int, tuple[BaseRoute, set[str]]] = {}
    for served in served_routes(routes):
        paths.setdefault(id(served.route), (served.route, set()))[1].add(served.path)
    # A router included under two prefixes serves one route at two templates; the request
    # alone cannot tell which matched, so such a route keeps its own path.
    return {
        key: (route, found.pop() if len(found) == 1 else getattr(route, "path", UNMATCHED))
        for key, (route, found) in paths.items()
    }
