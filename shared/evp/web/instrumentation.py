"""Counting and timing every HTTP request into the service's metrics, by route template."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from evp.metrics import ServiceMetrics
from evp.web.routing import route_template

__all__ = ["HttpMetricsMiddleware"]


class HttpMetricsMiddleware:
    """Records each request's method, route template, status and duration.

    The template, not the raw path, labels the series: one series per route rather than
    one per order id.
    """

    def __init__(self, app: ASGIApp, *, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_recording)
        finally:
            self.metrics.http_request(
                scope["method"], route_template(scope), status, time.perf_counter() - started
            )
