"""Schemas, versions and deletes as Confluent answers them: encoded subjects, maxId, deleted
versions, forced and compare-and-set registrations, and normalized lookups."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from .schemas import USER_BREAKING, USER_V1, USER_V2

# Only normalization makes these one text (the alias is relative in the second).
ALIASED = json.dumps(
    {"type": "record", "name": "R", "namespace": "ns", "aliases": ["ns.Old"], "fields": []}
)
RELATIVE = json.dumps(
    {"type": "record", "name": "R", "namespace": "ns", "aliases": ["Old"], "fields": []}
)


def _register(client: TestClient, subject: str, schema: str, **extra: object) -> int:
    response = client.post(f"/subjects/{subject}/versions", json={"schema": schema, **extra})
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


@pytest.mark.parametrize("subject", ["team/users-value", "a%b", "spaced name", "é/ü"])
def test_encoded_subjects_work_on_every_route(client: TestClient, subject: str) -> None:
    """A subject holding a slash, a percent sign or spaces works once percent-encoded."""
    encoded = quote(subject, safe="")
    assert _register(client, encoded, USER_V1) == 1
    assert client.get("/subjects").json() == [subject]
    assert client.get(f"/subjects/{encoded}/versions").json() == [1]
    assert client.get(f"/subjects/{encoded}/versions/1").json()["subject"] == subject
    assert client.get(f"/subjects/{encoded}/versions/latest/schema").status_code == 200
    assert client.post(f"/subjects/{encoded}", json={"schema": USER_V1}).status_code == 200
    check = client.post(f"/compatibility/subjects/{encoded}/versions/1", json={"schema": USER_V2})
    assert check.json() == {"is_compatible": True}
    assert client.put(f"/config/{encoded}", json={"compatibility": "NONE"}).status_code == 200
    assert client.get(f"/config/{encoded}").json() == {"compatibilityLevel": "NONE"}
    assert client.put(f"/mode/{encoded}", json={"mode": "READWRITE"}).status_code == 200
    assert client.get(f"/subjects/{encoded}/versions/1/referencedby").json() == []
    assert client.delete(f"/subjects/{encoded}").json() == [1]
    assert client.get("/schemas/ids/1/versions?deleted=true").json() == [
        {"subject": subject, "version": 1}
    ]


def test_fetch_max_id_adds_the_highest_id(client: TestClient) -> None:
    """GET /schemas/ids/{id}?fetchMaxId=true answers maxId beside the schema."""
    _register(client, "a", USER_V1)
    _register(client, "a", USER_V2)
    body = client.get("/schemas/ids/1?fetchMaxId=true").json()
    assert body["maxId"] == 2
    assert "maxId" not in client.get("/schemas/ids/1").json()


def test_a_soft_deleted_version_says_deleted(client: TestClient) -> None:
    """GET /subjects/{s}/versions/{v}?deleted=true marks a soft-deleted version deleted."""
    _register(client, "users", USER_V1)
    client.delete("/subjects/users/versions/1")
    assert client.get("/subjects/users/versions/1?deleted=true").json()["deleted"] is True


def test_a_soft_deleted_version_found_by_lookup_says_deleted(client: TestClient) -> None:
    """POST /subjects/{s}?deleted=true marks the soft-deleted version it finds deleted."""
    _register(client, "users", USER_V1)
    client.delete("/subjects/users")
    body = client.post("/subjects/users?deleted=true", json={"schema": USER_V1}).json()
    assert (body["version"], body["deleted"]) == (1, True)


def test_a_live_version_carries_no_deleted_field(client: TestClient) -> None:
    """Live versions answer without "deleted", as Jackson leaves a false flag out."""
    _register(client, "users", USER_V1)
    assert "deleted" not in client.get("/subjects/users/versions/1?deleted=true").json()


def test_force_skips_the_compatibility_check(client: TestClient) -> None:
    """POST /subjects/{s}/versions?force=true registers a breaking change."""
    _register(client, "users", USER_V1)
    response = client.post("/subjects/users/versions?force=true", json={"schema": USER_BREAKING})
    assert response.json() == {"id": 2}


def test_an_explicit_next_version_is_accepted(client: TestClient) -> None:
    """A registration naming the next version (compare-and-set) gets that version."""
    _register(client, "users", USER_V1, version=1)
    _register(client, "users", USER_V2, version=2)
    assert client.get("/subjects/users/versions").json() == [1, 2]


def test_an_explicit_version_that_is_not_the_next_is_42201(client: TestClient) -> None:
    """A registration naming any other version is refused with Confluent's 42201."""
    _register(client, "users", USER_V1)
    response = client.post("/subjects/users/versions", json={"schema": USER_V2, "version": 5})
    assert (response.status_code, response.json()["error_code"]) == (422, 42201)
    assert response.json()["message"].endswith("Version is not one more than previous version")


def test_normalized_lookup_finds_a_schema_registered_as_given(client: TestClient) -> None:
    """Lookup with normalize=true finds a version registered without normalization."""
    _register(client, "r", ALIASED)
    response = client.post("/subjects/r?normalize=true", json={"schema": RELATIVE})
    assert (response.status_code, response.json()["version"]) == (200, 1)


def test_lookup_without_normalize_does_not_find_another_spelling(client: TestClient) -> None:
    """Without normalize, the other spelling is not the registered schema (40403)."""
    _register(client, "r", ALIASED)
    response = client.post("/subjects/r", json={"schema": RELATIVE})
    assert response.json()["error_code"] == 40403


def test_normalized_registration_reuses_a_schema_registered_as_given(client: TestClient) -> None:
    """Registering with normalize=true the other spelling of a version answers its id."""
    _register(client, "r", ALIASED)
    response = client.post("/subjects/r/versions?normalize=true", json={"schema": RELATIVE})
    assert response.json() == {"id": 1}
    assert client.get("/subjects/r/versions").json() == [1]
