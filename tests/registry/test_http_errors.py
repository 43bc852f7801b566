"""Every error of the HTTP API, with Confluent's status and error code, and never a 500."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from evp.registry.app import create_app
from evp.registry.postgres_store import PostgresRegistryStore

from .schemas import USER_BREAKING, USER_V1, USER_V2, field, record


def _error(response: object, status: int, code: int) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.json()["error_code"] == code  # type: ignore[attr-defined]
    assert response.json()["message"]  # type: ignore[attr-defined]


def _register(client: TestClient, subject: str, schema: str, **extra: object) -> int:
    response = client.post(f"/subjects/{subject}/versions", json={"schema": schema, **extra})
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


def test_unknown_subject_is_40401(client: TestClient) -> None:
    """Versions of a subject never registered: 404 / 40401."""
    _error(client.get("/subjects/nobody/versions"), 404, 40401)


def test_unknown_version_is_40402(client: TestClient) -> None:
    """A version number the subject does not have: 404 / 40402."""
    _register(client, "users", USER_V1)
    _error(client.get("/subjects/users/versions/7"), 404, 40402)


def test_unknown_schema_id_is_40403(client: TestClient) -> None:
    """An id no schema has: 404 / 40403."""
    _error(client.get("/schemas/ids/999"), 404, 40403)


def test_non_numeric_schema_id_is_40403(client: TestClient) -> None:
    """An id that is not a number: 404 / 40403."""
    _error(client.get("/schemas/ids/abc"), 404, 40403)


def test_lookup_of_an_unregistered_schema_is_40403(client: TestClient) -> None:
    """Looking up a schema the subject does not hold: 404 / 40403."""
    _register(client, "users", USER_V1)
    _error(client.post("/subjects/users", json={"schema": USER_V2}), 404, 40403)


def test_soft_deleting_a_soft_deleted_subject_is_40404(client: TestClient) -> None:
    """A second soft delete of a subject: 404 / 40404."""
    _register(client, "users", USER_V1)
    client.delete("/subjects/users")
    _error(client.delete("/subjects/users"), 404, 40404)


def test_permanent_delete_of_a_live_subject_is_40405(client: TestClient) -> None:
    """Permanently deleting a subject not soft-deleted first: 404 / 40405."""
    _register(client, "users", USER_V1)
    _error(client.delete("/subjects/users?permanent=true"), 404, 40405)


def test_soft_deleting_a_soft_deleted_version_is_40406(client: TestClient) -> None:
    """A second soft delete of a version: 404 / 40406."""
    _register(client, "users", USER_V1)
    client.delete("/subjects/users/versions/1")
    _error(client.delete("/subjects/users/versions/1"), 404, 40406)


def test_permanent_delete_of_a_live_version_is_40407(client: TestClient) -> None:
    """Permanently deleting a version not soft-deleted first: 404 / 40407."""
    _register(client, "users", USER_V1)
    _error(client.delete("/subjects/users/versions/1?permanent=true"), 404, 40407)


def test_subject_without_its_own_level_is_40408(client: TestClient) -> None:
    """GET /config/{subject} without a subject-level setting: 404 / 40408."""
    _error(client.get("/config/users"), 404, 40408)


def test_subject_without_its_own_mode_is_40409(client: TestClient) -> None:
    """GET /mode/{subject} without a subject-level mode: 404 / 40409."""
    _error(client.get("/mode/users"), 404, 40409)


def test_incompatible_schema_is_40901_with_details(client: TestClient) -> None:
    """An incompatible registration: 409 / 40901, naming the problem."""
    _register(client, "users", USER_V1)
    response = client.post("/subjects/users/versions", json={"schema": USER_BREAKING})
    _error(response, 409, 40901)
    assert "READER_FIELD_MISSING_DEFAULT_VALUE" in response.json()["message"]
    assert "/fields/1" in response.json()["message"]


INVALID_SCHEMAS = {
    "not JSON": "{",
    "unknown type": record(field("a", "strin")),
    "bad default": record(field("a", "int", default="x")),
    "duplicate field": record(field("a", "int"), field("a", "int")),
    "union default not matching its first branch": record(field("a", ["null", "int"], default=1)),
    "empty": "",
}


@pytest.mark.parametrize("schema", INVALID_SCHEMAS.values(), ids=INVALID_SCHEMAS.keys())
def test_invalid_avro_is_42201(client: TestClient, schema: str) -> None:
    """Each invalid schema: 422 / 42201, and nothing is registered."""
    _error(client.post("/subjects/users/versions", json={"schema": schema}), 422, 42201)
    assert client.get("/subjects").json() == []


def test_other_schema_types_are_42201(client: TestClient) -> None:
    """A PROTOBUF schema on this Avro-only registry: 422 / 42201."""
    body = {"schema": "syntax = 'proto3';", "schemaType": "PROTOBUF"}
    _error(client.post("/subjects/users/versions", json=body), 422, 42201)


def test_missing_reference_is_42201(client: TestClient) -> None:
    """A reference to a subject that does not exist: 422 / 42201."""
    body = {
        "schema": record(field("a", "shop.Address")),
        "references": [{"name": "shop.Address", "subject": "address", "version": 1}],
    }
    _error(client.post("/subjects/users/versions", json=body), 422, 42201)


@pytest.mark.parametrize("version", ["abc", "0", "-2", "2147483648", "1.5"])
def test_invalid_version_is_42202(client: TestClient, version: str) -> None:
    """A version that is not latest, -1 or 1..2^31-1: 422 / 42202."""
    _register(client, "users", USER_V1)
    _error(client.get(f"/subjects/users/versions/{version}"), 422, 42202)


def test_unknown_compatibility_level_is_42203(client: TestClient) -> None:
    """PUT /config with an unknown level: 422 / 42203."""
    _error(client.put("/config", json={"compatibility": "SIDEWAYS"}), 422, 42203)


def test_unknown_mode_is_42204(client: TestClient) -> None:
    """PUT /mode with an unknown mode: 422 / 42204."""
    _error(client.put("/mode", json={"mode": "SOMETIMES"}), 422, 42204)


def test_write_in_read_only_mode_is_42205(client: TestClient) -> None:
    """Registering while the registry is READONLY: 422 / 42205."""
    client.put("/mode", json={"mode": "READONLY"})
    _error(client.post("/subjects/users/versions", json={"schema": USER_V1}), 422, 42205)


def test_import_mode_on_a_non_empty_registry_is_42205(client: TestClient) -> None:
    """Switching a non-empty registry to IMPORT without force: 422 / 42205."""
    _register(client, "users", USER_V1)
    _error(client.put("/mode", json={"mode": "IMPORT"}), 422, 42205)


def test_overwriting_an_imported_id_is_42205(client: TestClient) -> None:
    """Importing a different schema under an id already taken: 422 / 42205."""
    client.put("/mode", json={"mode": "IMPORT"})
    _register(client, "users", USER_V1, id=10, version=1)
    body = {"schema": record(field("x", "int"), name="Other"), "id": 10, "version": 1}
    _error(client.post("/subjects/others/versions", json=body), 422, 42205)


def test_deleting_a_referenced_version_is_42206(client: TestClient) -> None:
    """Deleting a version another schema references: 422 / 42206."""
    _register(
        client, "address", record(field("street", "string"), name="Address", namespace="shop")
    )
    body = {
        "schema": record(field("home", "shop.Address")),
        "references": [{"name": "shop.Address", "subject": "address", "version": 1}],
    }
    assert client.post("/subjects/users/versions", json=body).status_code == 200
    _error(client.delete("/subjects/address/versions/1"), 422, 42206)
    _error(client.delete("/subjects/address"), 422, 42206)


def test_import_with_another_id_for_a_registered_schema_is_42207(client: TestClient) -> None:
    """Importing a schema the subject holds under a different id: 422 / 42207."""
    client.put("/mode", json={"mode": "IMPORT"})
    _register(client, "users", USER_V1, id=10, version=1)
    body = {"schema": USER_V1, "id": 11, "version": 2}
    _error(client.post("/subjects/users/versions", json=body), 422, 42207)


@pytest.mark.parametrize("subject", ["", "%20", "bad%01subject"])
def test_invalid_subject_is_42208(client: TestClient, subject: str) -> None:
    """An empty, blank or control-character subject: 422 / 42208."""
    _error(client.post(f"/subjects/{subject}/versions", json={"schema": USER_V1}), 422, 42208)


def test_invalid_subject_in_config_is_42208(client: TestClient) -> None:
    """Setting the level of a control-character subject: 422 / 42208."""
    _error(client.put("/config/bad%07", json={"compatibility": "FULL"}), 422, 42208)


def test_schema_over_one_mebibyte_is_42209(client: TestClient) -> None:
    """A schema text larger than 1 MiB: 422 / 42209."""
    huge = record(field("a", "int", doc="x" * (1024 * 1024)))
    _error(client.post("/subjects/users/versions", json={"schema": huge}), 422, 42209)


def test_body_far_over_the_limit_is_42209(client: TestClient) -> None:
    """A body too large to hold any acceptable schema is refused without being parsed."""
    body = b'{"schema": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    _error(client.post("/subjects/users/versions", content=body), 422, 42209)


def test_invalid_json_is_400(client: TestClient) -> None:
    """A body that is not JSON: 400 / 400."""
    _error(client.post("/subjects/users/versions", content=b"{nope"), 400, 400)


def test_json_of_the_wrong_shape_is_422(client: TestClient) -> None:
    """A JSON body that is not an object: 422 / 422."""
    _error(client.post("/subjects/users/versions", json=["schema"]), 422, 422)


def test_missing_body_is_422(client: TestClient) -> None:
    """A register request without a body: 422 / 422."""
    _error(client.post("/subjects/users/versions"), 422, 422)


def test_unknown_path_is_404(client: TestClient) -> None:
    """A path the API does not have: 404 in Confluent's error shape."""
    _error(client.get("/no/such/path"), 404, 404)


def test_unsupported_method_is_405(client: TestClient) -> None:
    """A method a path does not support: 405 in Confluent's error shape."""
    _error(client.put("/subjects"), 405, 405)


async def test_store_failure_is_50001(evp_database: str) -> None:
    """A database that went away: 500 / 50001, as a store error rather than a crash."""
    store = await PostgresRegistryStore.connect(evp_database)
    await store.close()
    with TestClient(create_app(store=store)) as client:
        _error(client.get("/subjects"), 500, 50001)


def test_no_partial_write_after_a_refused_registration(client: TestClient) -> None:
    """A refused incompatible registration leaves versions and ids untouched."""
    _register(client, "users", USER_V1)
    client.post("/subjects/users/versions", json={"schema": USER_BREAKING})
    assert client.get("/subjects/users/versions").json() == [1]
    assert json.loads(client.get("/schemas/ids/1").json()["schema"])["name"] == "User"
    _error(client.get("/schemas/ids/2"), 404, 40403)
