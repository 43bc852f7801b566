"""The console's HTTP side: its page, and the JSON API the page polls.

One page (``static/index.html`` with its script and styles, vendored: it works offline) and
a JSON API under ``/api``. The page never talks to the services itself: the shop page's
customer requests go through ``/api/shop/{service}/...`` unchanged (the customer's own
token, so the services decide what the customer may see), and the operator pages' requests
are made by the console as the seeded admin. Everything is read when asked, nothing cached
but the event catalogue (it changes only when schemas are registered or services restart).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.middleware import Middleware

from evp.console.admin import AdminSession
from evp.console.dead_letters import DeadLetters
from evp.console.mailbox import Mailbox
from evp.console.overview import process_rows
from evp.console.platform import SHOP_SERVICES, Platform, ProcessSource
from evp.messaging import MessagingSettings
from evp.web.errors import FieldError, InvalidRequest, NotFound, Unavailable
from evp.web.limits import BodySizeLimitMiddleware
from evp.web.problems import UnhandledErrorMiddleware, install_problem_handlers

__all__ = ["console_app"]

STATIC = Path(__file__).parent / "static"
_CATALOGUE_TTL_S = 30.0
_PROXIED_REQUEST_HEADERS = ("authorization", "content-type", "idempotency-key", "accept")
_PROXIED_ANSWER_HEADERS = ("content-type", "retry-after", "location", "www-authenticate")
_MAX_BODY_BYTES = 256 * 1024


@dataclass
class _Parts:
    """What the routes use, made once the app starts."""

    platform: Platform
    processes: ProcessSource
    client: httpx.AsyncClient
    admin: AdminSession
    dead_letters: DeadLetters
    mailbox: Mailbox
    catalogue: _CatalogueCache


def console_app(
    platform: Platform,
    processes: ProcessSource,
    *,
    messaging: MessagingSettings | None = None,
) -> FastAPI:
    """The console for ``platform``; ``messaging``: how to reach Kafka (its settings'
    client properties), defaulting to the environment's, pointed at ``platform.kafka``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings = (messaging or MessagingSettings.from_env()).replace(
            bootstrap_servers=platform.kafka,
            schema_registry_url=platform.registry,
            topic_prefix=platform.topic_prefix,
        )
        # Idle connections are dropped before the services' 5 s keep-alive (uvicorn's) ends,
        # so a request never goes out on a connection the server is closing.
        limits = httpx.Limits(keepalive_expiry=2.0)
        async with httpx.AsyncClient(timeout=10.0, limits=limits) as client:
            catalogue = _CatalogueCache(platform, client)
            topics = await asyncio.to_thread(catalogue.topics)
            dead_letters = DeadLetters(settings, topics)
            app.state.parts = _Parts(
                platform=platform,
                processes=processes,
                client=client,
                admin=AdminSession(
                    client,
                    platform.services.get("users", ""),
                    platform.admin_email,
                    platform.admin_password,
                ),
                dead_letters=dead_letters,
                mailbox=Mailbox(platform.maildir),
                catalogue=catalogue,
            )
            try:
                yield
            finally:
                await dead_letters.close()

    app = FastAPI(
        title="evp console",
        description="The running platform: processes, the shop, sagas, events, dead letters, mail.",
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
        middleware=[
            Middleware(BodySizeLimitMiddleware, max_body_bytes=_MAX_BODY_BYTES),
            Middleware(UnhandledErrorMiddleware),
        ],
    )
    install_problem_handlers(app)
    app.include_router(_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/asyncapi.json", summary="The platform's AsyncAPI 3 document")
    async def asyncapi(request: Request) -> JSONResponse:
        return JSONResponse((await _parts(request).catalogue.get()).document)

    return app


def _parts(request: Request) -> _Parts:
    parts: _Parts = request.app.state.parts
    return parts


Parts = Annotated[_Parts, Depends(_parts)]
_router = APIRouter(prefix="/api")


# -- overview -------------------------------------------------------------------------------


@_router.get("/platform", summary="Where everything runs, and each process's health")
async def platform_overview(parts: Parts) -> dict[str, Any]:
    """Every supervised process (probed now) and where the platform's parts are."""
    platform = parts.platform
    credentials = platform.registry_credentials
    rows = await process_rows(
        parts.client,
        parts.processes.processes(),
        registry_auth=(credentials.user, credentials.password.reveal()) if credentials else None,
    )
    return {
        "processes": rows,
        "services": dict(platform.services),
        "registry": platform.registry,
        "kafka": platform.kafka,
        "topic_prefix": platform.topic_prefix,
        "smtp": platform.smtp,
        "databases": dict(platform.databases),
        "admin": platform.admin_email,
        "now": time.time(),
    }


# -- the shop, as its customers see it --------------------------------------------------------


@_router.api_route(
    "/shop/{service}/{path:path}",
    methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
    summary="A customer's request to a shop service, passed on unchanged",
)
async def shop_request(service: str, path: str, request: Request, parts: Parts) -> Response:
    """The service's answer as it is (status, body, and the headers a client reads)."""
    base = _service(parts, service)
    headers = {k: v for k, v in request.headers.items() if k.lower() in _PROXIED_REQUEST_HEADERS}
    try:
        answer = await parts.client.request(
            request.method,
            f"{base}/{path}",
            params=request.url.query,  # as sent: a repeated parameter stays repeated
            content=await request.body(),
            headers=headers,
        )
    except httpx.HTTPError as error:
        raise Unavailable(f"{service} did not answer: {error}", dependency=service) from error
    return Response(
        answer.content,
        status_code=answer.status_code,
        headers={k: v for k, v in answer.headers.items() if k.lower() in _PROXIED_ANSWER_HEADERS},
    )


# -- operator pages: as the admin ---------------------------------------------------------------


@_router.get("/analytics", summary="The shop's figures (analytics' summary)")
async def analytics(parts: Parts) -> Response:
    """Analytics' ``/analytics/summary``, asked as the admin."""
    return await _as_admin(parts, "analytics", "GET", "/analytics/summary")


@_router.get("/sagas", summary="Sagas by state, searchable by order id")
async def sagas(
    parts: Parts,
    state: Annotated[str | None, Query(pattern="^(running|stuck|done)$")] = None,
    order_id: Annotated[str | None, Query(max_length=36)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> Response:
    """Orders' ``/sagas`` (newest last), asked as the admin."""
    params: dict[str, str | int] = {"limit": limit}
    if state:
        params["state"] = state
    if order_id:
        params["order_id"] = order_id
    return await _as_admin(parts, "orders", "GET", "/sagas", params=params)


@_router.get("/sagas/{order_id}", summary="One saga: its steps and its events")
async def saga(order_id: uuid.UUID, parts: Parts) -> Response:
    """Orders' ``/sagas/{order_id}``, asked as the admin."""
    return await _as_admin(parts, "orders", "GET", f"/sagas/{order_id}")


@_router.post("/sagas/{order_id}/retry", summary="Re-drive a saga's running step")
async def retry_saga(order_id: uuid.UUID, parts: Parts) -> Response:
    """Orders' ``/sagas/{order_id}/retry``, asked as the admin."""
    return await _as_admin(parts, "orders", "POST", f"/sagas/{order_id}/retry")


# -- the event catalogue ----------------------------------------------------------------------


@_router.get("/catalogue", summary="Every event: topic, subject, versions, producers, consumers")
async def catalogue(parts: Parts) -> dict[str, Any]:
    """The catalogue from ``schemas/``, the registry and the services' declarations."""
    return (await parts.catalogue.get()).catalogue


# -- dead letters -------------------------------------------------------------------------------


@_router.get("/dead-letters", summary="Dead letters per topic")
async def dead_letter_topics(parts: Parts) -> list[dict[str, Any]]:
    """Per topic of the catalog: how many dead letters, how many not yet replayed."""
    return await parts.dead_letters.overview()


@_router.get("/dead-letters/{topic}", summary="A topic's dead letters")
async def dead_letters(topic: str, parts: Parts) -> list[dict[str, Any]]:
    """Every dead letter of ``topic``, oldest first."""
    return await parts.dead_letters.letters(topic)


@_router.get("/dead-letters/{topic}/{partition}/{offset}", summary="One dead letter, decoded")
async def dead_letter(topic: str, partition: int, offset: int, parts: Parts) -> dict[str, Any]:
    """The letter with its reason, headers, and body decoded where it can be."""
    return await parts.dead_letters.letter(topic, partition, offset)


class Position(BaseModel):
    """Where a dead letter is in its dead-letter topic."""

    partition: int = Field(ge=0)
    offset: int = Field(ge=0)


class ReplayIn(BaseModel):
    """Which letters to replay: those listed, or every one not yet replayed."""

    letters: list[Position] | None = Field(default=None, max_length=1000)
    all: bool = False


@_router.post("/dead-letters/{topic}/replay", summary="Re-publish dead letters to their topic")
async def replay(topic: str, body: ReplayIn, parts: Parts) -> dict[str, Any]:
    """Each letter once: a replayed letter is marked, and a second replay skips it."""
    if body.all == (body.letters is not None):
        raise InvalidRequest(
            "say which letters to replay",
            [FieldError("body.letters", "give either letters or all: true", "choice")],
        )
    positions = None if body.all else [(p.partition, p.offset) for p in body.letters or []]
    return await parts.dead_letters.replay(topic, positions)


# -- mailbox -------------------------------------------------------------------------------------


@_router.get("/mailbox", summary="The mail the SMTP sink received, newest first")
async def mailbox(
    parts: Parts, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> dict[str, Any]:
    """The messages; ``sink`` is false when mail goes to a configured SMTP server instead."""
    box = parts.mailbox
    messages = await asyncio.to_thread(box.messages, limit=limit)
    return {
        "sink": box.path is not None,
        "smtp": parts.platform.smtp,
        "messages": [m.summary() for m in messages],
    }


@_router.get("/mailbox/{key}", summary="One message in full")
async def mail(key: str, parts: Parts) -> dict[str, Any]:
    """Its headers and its text."""
    return (await asyncio.to_thread(parts.mailbox.message, key)).document()


# -- helpers ---------------------------------------------------------------------------------------


def _service(parts: _Parts, service: str) -> str:
    url = parts.platform.services.get(service) if service in SHOP_SERVICES else None
    if url is None:
        raise NotFound("service", service)
    return url.rstrip("/")


async def _as_admin(parts: _Parts, service: str, method: str, path: str, **kwargs: Any) -> Response:
    url = _service(parts, service) + path
    try:
        answer = await parts.admin.request(method, url, **kwargs)
    except httpx.HTTPError as error:
        raise Unavailable(f"{service} did not answer: {error}", dependency=service) from error
    return Response(
        answer.content,
        status_code=answer.status_code,
        media_type=answer.headers.get("content-type", "application/json"),
    )


class _Catalogue:
    def __init__(self, catalogue: dict[str, Any], document: dict[str, Any]) -> None:
        self.catalogue = catalogue
        self.document = document


class _CatalogueCache:
    """The catalogue and the AsyncAPI document, rebuilt at most every half minute."""

    def __init__(self, platform: Platform, client: httpx.AsyncClient) -> None:
        self._platform = platform
        self._client = client
        self._built: _Catalogue | None = None
        self._at = 0.0
        self._lock = asyncio.Lock()

    def topics(self) -> list[str]:
        """The catalog's logical topics (blocking: reads ``schemas/``)."""
        from evp.contract import load_catalog

        return sorted(load_catalog(self._platform.schemas).topics)

    async def get(self) -> _Catalogue:
        async with self._lock:
            if self._built is None or time.monotonic() - self._at > _CATALOGUE_TTL_S:
                self._built = await _build(self._platform, self._client)
                self._at = time.monotonic()
            return self._built


async def _build(platform: Platform, client: httpx.AsyncClient) -> _Catalogue:
    from evp.console.catalogue import build_catalogue, platform_document, service_documents
    from evp.contract import load_catalog
    from evp.messaging.topics import TopicNames

    catalog = await asyncio.to_thread(load_catalog, platform.schemas)
    documents = await asyncio.to_thread(service_documents, topics=TopicNames(platform.topic_prefix))
    levels, registered = await _registry_view(platform, client, list(catalog.subjects))
    return _Catalogue(
        build_catalogue(catalog, documents, levels=levels, registered=registered),
        platform_document(documents, servers={"kafka": platform.kafka}),
    )


async def _registry_view(
    platform: Platform, client: httpx.AsyncClient, subjects: list[str]
) -> tuple[dict[str, str], dict[str, list[int]]]:
    """Each subject's compatibility level and registered versions, as the registry says."""
    base = platform.registry.rstrip("/")
    credentials = platform.registry_credentials
    auth = (credentials.user, credentials.password.reveal()) if credentials else None

    async def fetch(path: str) -> Any:
        try:
            answer = await client.get(base + path, auth=auth)
        except httpx.HTTPError:
            return None
        return answer.json() if answer.status_code == 200 else None

    default = await fetch("/config")
    fallback = (default or {}).get("compatibilityLevel")
    configs, versions = await asyncio.gather(
        asyncio.gather(*(fetch(f"/config/{s}") for s in subjects)),
        asyncio.gather(*(fetch(f"/subjects/{s}/versions") for s in subjects)),
    )
    levels = {
        subject: (config or {}).get("compatibilityLevel") or fallback
        for subject, config in zip(subjects, configs, strict=True)
    }
    return (
        {s: level for s, level in levels.items() if level},
        {s: list(v) for s, v in zip(subjects, versions, strict=True) if isinstance(v, list)},
    )
