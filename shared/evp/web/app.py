"""The one factory that turns a service's routers into its HTTP app.

Everything a service's HTTP side shares is installed here, in one order: correlation ids
and the request log outermost (so they cover every answer, a 413 or a 500 included), then
request metrics, the body size cap, and the guard that turns an unexpected exception into
a 500 problem, innermost, so that the layers above it see an answer, not an exception.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, FastAPI
from fastapi.responses import Response
from opentelemetry import trace
from starlette.middleware import Middleware
from starlette.types import Lifespan

from evp.metrics import ServiceMetrics
from evp.web.auth.access import VERIFIER_STATE, Access, route_access
from evp.web.auth.tokens import TokenVerifier
from evp.web.errors import MissingVerifier
from evp.web.health import Readiness, health_router
from evp.web.instrumentation import HttpMetricsMiddleware
from evp.web.limits import DEFAULT_MAX_BODY_BYTES, BodySizeLimitMiddleware
from evp.web.logs import RequestContextMiddleware
from evp.web.problems import UnhandledErrorMiddleware, install_problem_handlers
from evp.web.tracing import TracingMiddleware

__all__ = ["web_app"]


def web_app(
    *,
    title: str,
    version: str,
    routers: Sequence[APIRouter],
    metrics: ServiceMetrics,
    readiness: Readiness,
    verifier: TokenVerifier | None,
    lifespan: Lifespan[FastAPI] | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    description: str = "",
    tracer: trace.Tracer | None = None,
) -> FastAPI:
    """A FastAPI app serving ``routers`` plus ``/health/*``, ``/metrics`` and ``/openapi.json``.

    With a ``tracer``, each request is a span (a child of its ``traceparent``).

    Raises :class:`~evp.web.errors.MissingVerifier` when a route needs a token and
    ``verifier`` is ``None``: better refused at start-up than a 500 on the first request.
    """
    app = FastAPI(
        title=title,
        version=version,
        description=description,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        middleware=[
            Middleware(RequestContextMiddleware),
            *([Middleware(TracingMiddleware, tracer=tracer)] if tracer is not None else []),
            Middleware(HttpMetricsMiddleware, metrics=metrics),
            Middleware(BodySizeLimitMiddleware, max_body_bytes=max_body_bytes),
            Middleware(UnhandledErrorMiddleware),
        ],
    )
    install_problem_handlers(app)
    app.state.metrics = metrics
    app.state.readiness = readiness
    setattr(app.state, VERIFIER_STATE, verifier)
    app.include_router(health_router())
    app.include_router(_metrics_router(metrics))
    for router in routers:
        app.include_router(router)
    if verifier is None:
        protected = [
            f"{method} {path}"
            for (method, path), access in route_access(app).items()
            if access is not Access.PUBLIC
        ]
        if protected:
            raise MissingVerifier(protected)
    return app


def _metrics_router(metrics: ServiceMetrics) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get(
        "/metrics",
        summary="This service's metrics, in Prometheus text format",
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}}},
    )
    async def render_metrics() -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    return router
