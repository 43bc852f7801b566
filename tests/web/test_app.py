"""The app factory: /metrics by route template, /openapi.json, and routers however included."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from evp.metrics import ServiceMetrics
from evp.web import (
    Access,
    Readiness,
    Role,
    TokenIssuer,
    TokenVerifier,
    require_admin,
    route_access,
    web_app,
)
from tests.web.conftest import bearer


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples of metric ``name`` in an exposition, by sorted labels."""
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    """/metrics counts requests under the route template, not the raw path."""
    client.get("/catalog/sku-1")
    client.get("/catalog/sku-2")
    client.get("/no/such/path")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    counts = samples(response.text, "evp_http_requests_total")
    labels = (("method", "GET"), ("route", "/catalog/{sku}"), ("service", "sample"))
    assert counts[(*labels, ("status", "200"))] == 2
    unmatched = (("method", "GET"), ("route", "<unmatched>"), ("service", "sample"))
    assert counts[(*unmatched, ("status", "404"))] == 1
    assert not any("sku-1" in value for key in counts for _, value in key)


def test_metrics_time_requests(client: TestClient) -> None:
    """Each request is observed in the latency histogram under its template."""
    client.get("/catalog/sku-1")
    text = client.get("/metrics").text
    counts = samples(text, "evp_http_request_seconds_count")
    key = (("method", "GET"), ("route", "/catalog/{sku}"), ("service", "sample"))
    assert counts[key] == 1


def test_metrics_show_a_500_as_a_500(client: TestClient) -> None:
    """An unexpected exception is counted with status 500."""
    client.get("/boom")
    counts = samples(client.get("/metrics").text, "evp_http_requests_total")
    key = (("method", "GET"), ("route", "/boom"), ("service", "sample"), ("status", "500"))
    assert counts[key] == 1


def test_metrics_serve_the_runtime_metrics(client: TestClient, metrics: ServiceMetrics) -> None:
    """What the runtime records into the service's metrics shows on its /metrics."""
    metrics.published("OrderPlaced")
    text = client.get("/metrics").text
    published = samples(text, "evp_events_published_total")
    assert published[(("event_type", "OrderPlaced"), ("service", "sample"))] == 1


def test_openapi_has_the_services_title_and_routes(client: TestClient) -> None:
    """/openapi.json carries the service's title and version and its declared routes."""
    document = client.get("/openapi.json").json()
    assert (document["info"]["title"], document["info"]["version"]) == ("sample", "1.2.3")
    assert {"/orders", "/health/ready", "/metrics"} <= document["paths"].keys()
    body = document["paths"]["/orders"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NewOrder"
    }


def test_included_prefixes_label_metrics_and_access(
    verifier: TokenVerifier, issuer: TokenIssuer
) -> None:
    """A router nested under prefixes, with router-wide admin access, is seen whole."""
    inner = APIRouter()

    @inner.get("/{item_id}")
    async def item(item_id: uuid.UUID) -> dict[str, str]:
        return {"id": str(item_id)}

    outer = APIRouter(prefix="/v1", dependencies=[Depends(require_admin)])
    outer.include_router(inner, prefix="/items")
    metrics = ServiceMetrics("nested")
    app = web_app(
        title="nested",
        version="0",
        routers=[outer],
        metrics=metrics,
        readiness=Readiness(),
        verifier=verifier,
    )
    assert route_access(app)[("GET", "/v1/items/{item_id}")] is Access.ADMIN
    with TestClient(app) as client:
        url = f"/v1/items/{uuid.uuid4()}"
        assert client.get(url).status_code == 401
        assert client.get(url, headers=bearer(issuer, Role.ADMIN)).status_code == 200
        counts = samples(client.get("/metrics").text, "evp_http_requests_total")
    routes = {dict(key)["route"] for key in counts}
    assert "/v1/items/{item_id}" in routes
