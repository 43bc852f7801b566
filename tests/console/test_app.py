"""The console's HTTP side against fake services: the overview, the shop proxy, the admin
routes, the page and the AsyncAPI document.

The fake services are one small Starlette app served over real HTTP (the console makes its
own client), each service under a path of its own. The console's lifespan needs no Kafka:
it only names the cluster its dead-letter reader would use (the dead-letter routes have
their own tests, against the embedded broker).
"""

from __future__ import annotations

import dataclasses
import datetime
import email.utils
import json
import mailbox
import socket
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from evp.console import Platform, ProcessInfo, console_app
from evp.messaging import MessagingSettings
from evp.registry.server import BackgroundServer

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin secret"
SERVICES = ("users", "orders", "inventory", "notifications", "analytics")
"""The services the fake answers as (payments is never answered: see ``silent_address``)."""
ECHO_HEADERS = ("authorization", "idempotency-key", "content-type", "cookie")


@dataclass
class FakeServices:
    """What the fake services were asked, and how they answer."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    logins: list[dict[str, Any]] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)
    """Tokens the services answer 401 to."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.logins.clear()
            self.revoked.clear()

    def asked(self, path: str) -> list[dict[str, Any]]:
        """The requests made to ``path``, in order."""
        return [r for r in self.requests if r["path"] == path]

    async def answer(self, request: Request) -> Response:
        service, _, rest = request.url.path.lstrip("/").partition("/")
        if rest == "health/ready":
            return self._health(service)
        body = await request.body()
        if service == "users" and rest == "auth/token":
            return self._login(json.loads(body))
        if service not in SERVICES:
            return JSONResponse({"detail": "no such service"}, status_code=404)
        seen = {
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            "body": body.decode(),
            "headers": {k: v for k, v in request.headers.items() if k in ECHO_HEADERS},
        }
        with self.lock:
            self.requests.append(seen)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token in self.revoked:
            return JSONResponse(
                {"detail": "token expired"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        # An answer no default would produce: its status, type and headers must pass through.
        return Response(
            json.dumps(seen),
            status_code=202,
            media_type="application/vnd.fake+json",
            headers={"Retry-After": "7", "Location": f"/{service}/somewhere"},
        )

    def _health(self, service: str) -> Response:
        if service == "users":
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "not ready", "checks": {"database": "down"}}, 503)

    def _login(self, credentials: dict[str, Any]) -> Response:
        with self.lock:
            self.logins.append(credentials)
            number = len(self.logins)
        if credentials != {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}:
            return JSONResponse({"detail": "wrong email or password"}, status_code=401)
        return JSONResponse({"access_token": f"token-{number}", "expires_in": 300})


@dataclass
class Processes:
    """A process source that gives what the test put in it."""

    found: Sequence[ProcessInfo] = ()

    def processes(self) -> Sequence[ProcessInfo]:
        return self.found


@pytest.fixture(scope="module")
def fake_server() -> Iterator[tuple[FakeServices, str]]:
    """The fake services, served on a free port for the module's tests."""
    fake = FakeServices()
    app = Starlette(
        routes=[
            Route(
                "/{path:path}",
                fake.answer,
                methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            )
        ]
    )
    with BackgroundServer(app) as server:
        yield fake, server.url


@pytest.fixture
def fake(fake_server: tuple[FakeServices, str]) -> FakeServices:
    """The fake services, with nothing asked of them yet."""
    services, _ = fake_server
    services.reset()
    return services


@pytest.fixture(scope="module")
def silent_address() -> Iterator[str]:
    """An address that refuses connections: a bound port nobody listens on."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{bound.getsockname()[1]}"


@pytest.fixture
def platform(
    fake_server: tuple[FakeServices, str], silent_address: str, tmp_path: Path
) -> Platform:
    """A platform whose services are the fakes, payments silent, and a mail sink."""
    _, url = fake_server
    services = {name: f"{url}/{name}" for name in SERVICES}
    return Platform(
        services={**services, "payments": silent_address},
        registry=silent_address,
        kafka="127.0.0.1:1",
        topic_prefix="console-test.",
        admin_email=ADMIN_EMAIL,
        admin_password=ADMIN_PASSWORD,
        schemas=SCHEMAS,
        maildir=tmp_path / "mail",
    )


@pytest.fixture
def processes() -> Processes:
    """The processes the console is shown (none until a test puts some in)."""
    return Processes()


@pytest.fixture
def console(platform: Platform, processes: Processes) -> Iterator[TestClient]:
    """The console, started, for ``platform`` and ``processes``."""
    app = console_app(platform, processes, messaging=MessagingSettings(bootstrap_servers=None))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _rows(console: TestClient) -> dict[str, dict[str, Any]]:
    answer = console.get("/api/platform")
    assert answer.status_code == 200, answer.text
    return {row["name"]: row for row in answer.json()["processes"]}


# -- overview -------------------------------------------------------------------------------


def test_overview_lists_each_process_with_kind_pid_and_restarts(
    console: TestClient, processes: Processes, fake_server: tuple[FakeServices, str]
) -> None:
    """Each process the source gives is a row: service or infrastructure, pid, restarts."""
    _, url = fake_server
    processes.found = [
        ProcessInfo("users.1", "users", pid=101, address=f"{url}/users", restarts=0),
        ProcessInfo("broker", "broker", pid=102, address="127.0.0.1:9092", restarts=2),
    ]
    rows = _rows(console)
    assert [(r["name"], r["kind"], r["pid"], r["restarts"]) for r in rows.values()] == [
        ("users.1", "service", 101, 0),
        ("broker", "infrastructure", 102, 2),
    ]


def test_a_process_without_a_pid_is_down(
    console: TestClient, processes: Processes, fake_server: tuple[FakeServices, str]
) -> None:
    """A process between a crash and its restart (no pid) is down, and not probed."""
    _, url = fake_server
    processes.found = [
        ProcessInfo("users.1", "users", pid=None, address=f"{url}/users", restarts=3)
    ]
    assert _rows(console)["users.1"]["health"] == "down"


def test_a_service_answering_503_is_not_ready_with_its_reasons(
    console: TestClient, processes: Processes, fake_server: tuple[FakeServices, str]
) -> None:
    """A service whose readiness probe answers 503 is not ready, its answer as the detail."""
    _, url = fake_server
    processes.found = [
        ProcessInfo("orders.1", "orders", pid=7, address=f"{url}/orders", restarts=0)
    ]
    row = _rows(console)["orders.1"]
    assert (row["health"], row["detail"]) == (
        "not ready",
        {"status": "not ready", "checks": {"database": "down"}},
    )


def test_a_service_answering_200_is_ready(
    console: TestClient, processes: Processes, fake_server: tuple[FakeServices, str]
) -> None:
    """A service whose readiness probe answers 200 is ready."""
    _, url = fake_server
    processes.found = [ProcessInfo("users.1", "users", pid=7, address=f"{url}/users", restarts=0)]
    row = _rows(console)["users.1"]
    assert (row["health"], row["detail"]) == ("ready", None)


def test_a_service_nobody_listens_for_is_unreachable(
    console: TestClient, processes: Processes, silent_address: str
) -> None:
    """A running service whose address refuses connections is unreachable."""
    processes.found = [
        ProcessInfo("payments.1", "payments", pid=7, address=silent_address, restarts=0)
    ]
    row = _rows(console)["payments.1"]
    assert row["health"] == "unreachable"
    assert "ConnectError" in row["detail"]


def test_a_service_links_to_its_metrics_and_documents(
    console: TestClient, processes: Processes, fake_server: tuple[FakeServices, str]
) -> None:
    """A service's row links to its metrics, OpenAPI, docs and AsyncAPI pages."""
    _, url = fake_server
    address = f"{url}/users"
    processes.found = [ProcessInfo("users.1", "users", pid=7, address=address, restarts=0)]
    links = _rows(console)["users.1"]["links"]
    assert {k: v for k, v in links.items() if k != "health"} == {
        "metrics": f"{address}/metrics",
        "openapi": f"{address}/openapi.json",
        "docs": f"{address}/docs",
        "asyncapi": f"{address}/asyncapi.json",
    }


def test_overview_never_shows_the_admin_password(console: TestClient) -> None:
    """The overview names the admin but not the admin's password."""
    answer = console.get("/api/platform")
    assert answer.json()["admin"] == ADMIN_EMAIL
    assert ADMIN_PASSWORD not in answer.text


# -- the shop proxy ----------------------------------------------------------------------------


def test_proxy_passes_the_request_on(console: TestClient, fake: FakeServices) -> None:
    """Method, path, query, body, token and idempotency key reach the service as sent."""
    console.post(
        "/api/shop/orders/orders/abc?expand=lines",
        content=b'{"quantity": 2}',
        headers={
            "Authorization": "Bearer customer-token",
            "Idempotency-Key": "key-1",
            "Content-Type": "application/json",
        },
    )
    (seen,) = fake.requests
    assert seen == {
        "method": "POST",
        "path": "/orders/orders/abc",
        "query": "expand=lines",
        "body": '{"quantity": 2}',
        "headers": {
            "authorization": "Bearer customer-token",
            "idempotency-key": "key-1",
            "content-type": "application/json",
        },
    }


def test_proxy_keeps_the_consoles_cookies_from_the_service(
    console: TestClient, fake: FakeServices
) -> None:
    """Headers beyond those a customer's request needs (cookies) are not passed on."""
    console.get("/api/shop/orders/orders", headers={"Cookie": "console-session=1"})
    (seen,) = fake.requests
    assert "cookie" not in seen["headers"]


def test_proxy_keeps_repeated_query_parameters(console: TestClient, fake: FakeServices) -> None:
    """A query parameter given twice reaches the service twice, in order."""
    console.get("/api/shop/inventory/products?sku=A&sku=B")
    (seen,) = fake.requests
    assert seen["query"] == "sku=A&sku=B"


def test_proxy_returns_the_services_answer_unchanged(
    console: TestClient, fake: FakeServices
) -> None:
    """The service's status, body, content type, Retry-After and Location come back as given."""
    answer = console.delete("/api/shop/users/users/me")
    assert answer.status_code == 202
    assert answer.headers["content-type"] == "application/vnd.fake+json"
    assert answer.headers["retry-after"] == "7"
    assert answer.headers["location"] == "/users/somewhere"
    assert answer.json() == fake.requests[0]


def test_proxy_to_an_unknown_service_is_not_found(console: TestClient) -> None:
    """A service the shop does not have is a 404 problem naming it."""
    answer = console.get("/api/shop/billing/invoices")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["id"] == "billing"


def test_proxy_to_a_silent_service_is_unavailable(console: TestClient) -> None:
    """A service that does not answer is a 503 problem, not a server error."""
    answer = console.get("/api/shop/payments/payments")
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"


def test_proxy_refuses_a_body_over_the_cap(console: TestClient, fake: FakeServices) -> None:
    """A body over 256 KiB is refused with 413 before the service sees it."""
    answer = console.post("/api/shop/orders/orders", content=b"x" * (256 * 1024 + 1))
    assert answer.status_code == 413
    assert fake.requests == []


# -- operator pages, as the admin --------------------------------------------------------------


def test_analytics_is_asked_as_the_admin(console: TestClient, fake: FakeServices) -> None:
    """The analytics page's figures come from analytics' summary, asked with the admin token."""
    answer = console.get("/api/analytics")
    (seen,) = fake.asked("/analytics/analytics/summary")
    assert seen["headers"]["authorization"] == "Bearer token-1"
    assert (answer.status_code, answer.json()) == (202, seen)


def test_the_admin_logs_in_with_the_platforms_credentials(
    console: TestClient, fake: FakeServices
) -> None:
    """The admin session logs in at users' token endpoint as the platform's admin."""
    console.get("/api/analytics")
    assert fake.logins == [{"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}]


def test_sagas_are_asked_with_their_filters(console: TestClient, fake: FakeServices) -> None:
    """The sagas page's state and order id filters reach orders' saga list."""
    console.get("/api/sagas", params={"state": "stuck", "order_id": "ab"})
    (seen,) = fake.asked("/orders/sagas")
    assert dict(pair.split("=") for pair in seen["query"].split("&")) == {
        "limit": "200",
        "state": "stuck",
        "order_id": "ab",
    }
    assert seen["headers"]["authorization"] == "Bearer token-1"


def test_a_saga_retry_is_posted_as_the_admin(console: TestClient, fake: FakeServices) -> None:
    """Retrying a saga posts to orders' retry route with the admin token."""
    order_id = uuid.uuid4()
    answer = console.post(f"/api/sagas/{order_id}/retry")
    (seen,) = fake.asked(f"/orders/sagas/{order_id}/retry")
    assert (seen["method"], seen["headers"]["authorization"]) == ("POST", "Bearer token-1")
    assert answer.status_code == 202


def test_the_admin_logs_in_once_for_many_requests(console: TestClient, fake: FakeServices) -> None:
    """The token is kept: three admin requests make one login."""
    console.get("/api/analytics")
    console.get("/api/sagas")
    console.post(f"/api/sagas/{uuid.uuid4()}/retry")
    assert len(fake.logins) == 1
    assert {r["headers"]["authorization"] for r in fake.requests} == {"Bearer token-1"}


def test_a_refused_token_is_renewed_once(console: TestClient, fake: FakeServices) -> None:
    """After a 401 the console logs in again and repeats the request with the new token."""
    console.get("/api/analytics")
    fake.revoked.add("token-1")
    answer = console.get("/api/analytics")
    tokens = [r["headers"]["authorization"] for r in fake.asked("/analytics/analytics/summary")]
    assert tokens == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]
    assert len(fake.logins) == 2
    assert answer.status_code == 202


def test_a_second_401_is_passed_through(console: TestClient, fake: FakeServices) -> None:
    """A service that refuses the renewed token too gets no third try: its 401 is the answer."""
    fake.revoked.update({"token-1", "token-2"})
    answer = console.get("/api/analytics")
    assert (answer.status_code, answer.json()) == (401, {"detail": "token expired"})
    assert len(fake.logins) == 2


def test_a_refused_admin_login_is_unavailable(
    platform: Platform, processes: Processes, fake: FakeServices
) -> None:
    """Wrong admin credentials make the admin pages a 503 problem, not a server error."""
    app = console_app(
        dataclasses.replace(platform, admin_password="wrong"),
        processes,
        messaging=MessagingSettings(bootstrap_servers=None),
    )
    with TestClient(app, raise_server_exceptions=False) as console:
        answer = console.get("/api/analytics")
    assert answer.status_code == 503
    assert fake.asked("/analytics/analytics/summary") == []


# -- the page, and the AsyncAPI document -----------------------------------------------------


def test_the_root_serves_the_page(console: TestClient) -> None:
    """``/`` is the console's HTML page, which loads its script."""
    answer = console.get("/")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "/static/console.js" in answer.text


def test_the_pages_script_is_served(console: TestClient) -> None:
    """The page's script is served as JavaScript from ``/static``."""
    answer = console.get("/static/console.js")
    assert answer.status_code == 200
    assert "javascript" in answer.headers["content-type"]


def test_the_asyncapi_document_is_asyncapi_3(console: TestClient) -> None:
    """``/asyncapi.json`` is an AsyncAPI 3.0.0 document of the platform's channels."""
    answer = console.get("/asyncapi.json")
    assert answer.status_code == 200
    document = answer.json()
    assert document["asyncapi"] == "3.0.0"
    assert "console-test.orders" in {c["address"] for c in document["channels"].values()}


# -- the mailbox routes ------------------------------------------------------------------------


def _mail(maildir: Path, subject: str) -> str:
    message = EmailMessage()
    message["From"] = "shop@example.com"
    message["To"] = "ada@example.com"
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(datetime.datetime.now(datetime.UTC))
    message.set_content("Thank you.\n")
    box = mailbox.Maildir(maildir, create=True)
    try:
        return box.add(message)
    finally:
        box.close()


def test_mailbox_lists_the_sinks_mail(console: TestClient, platform: Platform) -> None:
    """The mailbox route lists the sink's messages and says a sink is in use."""
    assert platform.maildir is not None
    key = _mail(platform.maildir, "Your order")
    answer = console.get("/api/mailbox").json()
    assert answer["sink"] is True
    assert [(m["key"], m["subject"]) for m in answer["messages"]] == [(key, "Your order")]


def test_an_unknown_message_is_not_found(console: TestClient) -> None:
    """Asking for a message the sink does not hold is a 404 problem."""
    answer = console.get("/api/mailbox/no-such-key")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
