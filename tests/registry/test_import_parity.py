"""IMPORT mode as Confluent's registry (8.x) runs it: explicit ids and versions, soft-deleted
versions, re-imports and no compatibility check."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from .schemas import USER_BREAKING, USER_V1, field, record

OTHER = record(field("x", "int"), name="Other")


def _import(client: TestClient, subject: str, schema: str, **extra: Any) -> int:
    response = client.post(f"/subjects/{subject}/versions", json={"schema": schema, **extra})
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


def test_import_over_a_soft_deleted_version_replaces_it(client: TestClient) -> None:
    """An explicit version that a soft-deleted version holds is taken over by the import."""
    _import(client, "users", USER_V1)
    client.delete("/subjects/users")
    client.put("/mode?force=true", json={"mode": "IMPORT"})
    assert _import(client, "users", OTHER, id=50, version=1) == 50
    found = client.get("/subjects/users/versions/1").json()
    assert (found["id"], found.get("deleted", False)) == (50, False)
    assert client.get("/subjects/users/versions?deleted=true").json() == [1]


def test_import_after_soft_deleted_versions_may_take_any_version(client: TestClient) -> None:
    """Versions given in IMPORT mode need not follow the soft-deleted ones."""
    _import(client, "users", USER_V1)
    client.delete("/subjects/users")
    client.put("/mode?force=true", json={"mode": "IMPORT"})
    assert _import(client, "users", OTHER, id=60, version=7) == 60
    assert client.get("/subjects/users/versions").json() == [7]


def test_reimporting_the_same_schema_under_the_same_id_and_version_changes_nothing(
    client: TestClient,
) -> None:
    """The same schema, id and version imported again answers the id and adds no version."""
    client.put("/mode", json={"mode": "IMPORT"})
    assert _import(client, "users", USER_V1, id=10, version=1) == 10
    assert _import(client, "users", USER_V1, id=10, version=1) == 10
    assert client.get("/subjects/users/versions").json() == [1]


def test_reimporting_the_same_schema_and_id_at_another_version_adds_it(client: TestClient) -> None:
    """The same schema and id imported at a new version is recorded there too."""
    client.put("/mode", json={"mode": "IMPORT"})
    _import(client, "users", USER_V1, id=10, version=1)
    assert _import(client, "users", USER_V1, id=10, version=2) == 10
    assert client.get("/subjects/users/versions").json() == [1, 2]
    assert client.get("/subjects/users/versions/2").json()["id"] == 10


def test_reimporting_the_same_schema_and_id_under_another_subject_adds_it(
    client: TestClient,
) -> None:
    """An id imported under a second subject keeps pointing at one schema."""
    client.put("/mode", json={"mode": "IMPORT"})
    _import(client, "a", USER_V1, id=10, version=1)
    assert _import(client, "b", USER_V1, id=10, version=1) == 10
    assert client.get("/schemas/ids/10/versions").json() == [
        {"subject": "a", "version": 1},
        {"subject": "b", "version": 1},
    ]


def test_import_skips_the_compatibility_check(client: TestClient) -> None:
    """A schema the subject's level would refuse is imported all the same."""
    client.put("/mode", json={"mode": "IMPORT"})
    _import(client, "users", USER_V1, id=1, version=1)
    assert _import(client, "users", USER_BREAKING, id=2, version=2) == 2


def test_a_different_schema_under_an_imported_id_is_42205(client: TestClient) -> None:
    """Importing another schema under a taken id is Confluent's 42205 "Overwrite new schema"."""
    client.put("/mode", json={"mode": "IMPORT"})
    _import(client, "users", USER_V1, id=10, version=1)
    response = client.post(
        "/subjects/others/versions", json={"schema": OTHER, "id": 10, "version": 1}
    )
    assert (response.status_code, response.json()["error_code"]) == (422, 42205)
    assert "Overwrite new schema with id 10" in response.json()["message"]


def test_import_keeps_the_schema_unnormalized(client: TestClient) -> None:
    """The schema is stored in canonical form without normalization, as Confluent stores it."""
    client.put("/mode", json={"mode": "IMPORT"})
    split = record(field("x", "int"), name="R", namespace="ns")
    _import(client, "r", split, id=3, version=1)
    assert '"namespace":"ns"' in client.get("/schemas/ids/3").json()["schema"]


def test_reimporting_a_soft_deleted_version_revives_it(client: TestClient) -> None:
    """The schema, id and version of a soft-deleted version imported again make it live."""
    _import(client, "users", USER_V1)
    client.delete("/subjects/users")
    client.put("/mode?force=true", json={"mode": "IMPORT"})
    assert _import(client, "users", USER_V1, id=1, version=1) == 1
    assert client.get("/subjects/users/versions").json() == [1]


def test_import_over_a_live_version_replaces_it(client: TestClient) -> None:
    """An import naming a live version of another schema writes over it, as Confluent's."""
    client.put("/mode", json={"mode": "IMPORT"})
    _import(client, "users", USER_V1, id=10, version=1)
    assert _import(client, "users", OTHER, id=11, version=1) == 11
    assert client.get("/subjects/users/versions/1").json()["id"] == 11
    assert client.get("/subjects/users/versions").json() == [1]


TAGGED = (
    '{"type":"record","name":"Tagged","zeta":"last","fields":'
    '[{"name":"a","type":"int","x-pii":true,"a-note":"n"}],"alpha":"first"}'
)


def test_an_import_keeps_custom_properties_in_the_order_given(client: TestClient) -> None:
    """The stored text keeps custom properties as imported, not reordered by name."""
    client.put("/mode", json={"mode": "IMPORT"})
    schema_id = _import(client, "tagged", TAGGED, id=70, version=1)
    stored = client.get(f"/schemas/ids/{schema_id}").json()["schema"]
    assert stored == (
        '{"type":"record","name":"Tagged","fields":'
        '[{"name":"a","type":"int","x-pii":true,"a-note":"n"}],"zeta":"last","alpha":"first"}'
    )
