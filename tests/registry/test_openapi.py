"""The OpenAPI document generated from the routes."""

from __future__ import annotations

from starlette.testclient import TestClient

from evp.registry.routes import ROUTES


def test_document_is_served_at_openapi_json(client: TestClient) -> None:
    """GET /openapi.json answers an OpenAPI 3 document."""
    document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")


def test_every_route_and_method_is_documented(client: TestClient) -> None:
    """Each served path and method appears, with the converter stripped from the path."""
    paths = client.get("/openapi.json").json()["paths"]
    for route in ROUTES:
        path = route.path.replace(":evp_subject", "")  # type: ignore[attr-defined]
        for method in route.methods or ():  # type: ignore[attr-defined]
            if method != "HEAD":
                assert method.lower() in paths[path], (method, path)


def test_operations_carry_summaries_and_parameters(client: TestClient) -> None:
    """Summaries come from docstrings; path and query parameters are listed."""
    operation = client.get("/openapi.json").json()["paths"]["/subjects/{subject}/versions"]["post"]
    assert operation["summary"].startswith("Register a schema")
    names = {(p["in"], p["name"]) for p in operation["parameters"]}
    assert names == {("path", "subject"), ("query", "normalize"), ("query", "force")}
    assert operation["x-evp-writes"] is True


def test_operation_ids_are_unique(client: TestClient) -> None:
    """No two operations share an operationId."""
    paths = client.get("/openapi.json").json()["paths"]
    ids = [op["operationId"] for methods in paths.values() for op in methods.values()]
    assert len(ids) == len(set(ids))
