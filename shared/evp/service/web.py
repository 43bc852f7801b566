"""The HTTP face of a service: its routes behind the kit's middleware and endpoints."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from opentelemetry import trace

from evp.messaging.topics import TopicNames
from evp.metrics import ServiceMetrics
from evp.service.asyncapi import service_document
from evp.service.runtime import CHECKS, ServiceRuntime
from evp.service.settings import ServiceSettings
from evp.web.auth import TokenVerifier
from evp.web.health import Check, CheckResult, Readiness

if TYPE_CHECKING:
    from evp.service.service import Service

__all__ = ["service_app"]

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def service_app(
    service: Service,
    settings: ServiceSettings,
    *,
    metrics: ServiceMetrics,
    lifespan: Lifespan,
    verifier: TokenVerifier | None = None,
    tracer: trace.Tracer | None = None,
) -> FastAPI:
    """``service``'s FastAPI app, its readiness checks reading the running parts."""
    from evp.web.app import web_app

    holder: list[FastAPI] = []

    def check(name: str) -> Check:
        async def run() -> CheckResult:
            runtime = getattr(holder[0].state, "runtime", None) if holder else None
            if not isinstance(runtime, ServiceRuntime):
                return CheckResult.failed("starting")
            return CheckResult.passed(await runtime.checks()[name]())

        return run

    readiness = Readiness(
        {name: check(name) for name in CHECKS}, timeout=settings.readiness_timeout
    )
    verifier = verifier or (
        TokenVerifier.from_jwks_url(
            settings.jwks_url, issuer=settings.token_issuer, audience=settings.token_audience
        )
        if settings.jwks_url
        else None
    )
    app = web_app(
        title=service.name,
        version=service.version,
        description=service.description,
        routers=service.routers,
        lifespan=lifespan,
        metrics=metrics,
        readiness=readiness,
        verifier=verifier,
        max_body_bytes=settings.max_body_bytes,
        tracer=tracer,
    )
    holder.append(app)
    _serve_asyncapi(app, service, settings)
    return app


def _serve_asyncapi(app: FastAPI, service: Service, settings: ServiceSettings) -> None:
    """Answer ``GET /asyncapi.json`` with ``service``'s AsyncAPI document (public)."""
    built: list[dict[str, Any]] = []

    async def asyncapi() -> JSONResponse:
        # Built once, at the first request: start-up does not parse every schema for a
        # document few ask for.
        if not built:
            built.append(
                service_document(
                    service,
                    topics=TopicNames(settings.messaging.topic_prefix),
                    server=settings.messaging.bootstrap_servers,
                )
            )
        return JSONResponse(built[0])

    app.add_api_route("/asyncapi.json", asyncapi, methods=["GET"], include_in_schema=False)
