"""The config resource as Confluent's whole ``Config`` entity, and the settings it enforces."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from evp.registry.app import create_app
from evp.schema.compatibility import CompatibilityLevel

from .schemas import USER_BREAKING, USER_V1, field, record

# Two spellings of one schema that only normalization makes the same text.
QUALIFIED = json.dumps(
    {"type": "record", "name": "R", "namespace": "ns", "aliases": ["ns.Old"], "fields": []}
)
SPLIT = json.dumps(
    {"type": "record", "name": "R", "namespace": "ns", "aliases": ["Old"], "fields": []}
)
BAD_FIELD_NAME = record(field("not-a-name", "int"))


def _register(client: TestClient, subject: str, schema: str, query: str = "") -> int:
    response = client.post(f"/subjects/{subject}/versions{query}", json={"schema": schema})
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


def test_every_config_field_is_stored_and_answered(client: TestClient) -> None:
    """PUT /config/{s} stores every Config field and GET answers them in Confluent's shape."""
    body = {
        "compatibility": "FULL",
        "alias": "other",
        "normalize": True,
        "validateFields": False,
        "validateRules": True,
        "compatibilityGroup": "application.major.version",
        "defaultMetadata": {"properties": {"owner": "team-a"}},
        "overrideMetadata": {"tags": {"f": ["PII"]}},
        "defaultRuleSet": {"domainRules": [{"name": "r", "kind": "CONDITION", "type": "CEL"}]},
        "overrideRuleSet": {"migrationRules": []},
    }
    client.put("/config/users", json=body)
    expected = {k: v for k, v in body.items() if k != "compatibility"}
    assert client.get("/config/users").json() == {**expected, "compatibilityLevel": "FULL"}


def test_a_body_with_only_normalize_changes_only_normalize(client: TestClient) -> None:
    """PUT {"normalize": true} keeps the level set before and echoes the whole new config."""
    client.put("/config/users", json={"compatibility": "FORWARD"})
    response = client.put("/config/users", json={"normalize": True})
    assert response.json() == {"normalize": True, "compatibility": "FORWARD"}
    assert client.get("/config/users").json() == {
        "normalize": True,
        "compatibilityLevel": "FORWARD",
    }


def test_a_null_field_clears_it(client: TestClient) -> None:
    """A field sent as null is cleared; the others stay."""
    client.put("/config/users", json={"compatibility": "FULL", "normalize": True})
    assert client.put("/config/users", json={"normalize": None}).json() == {"compatibility": "FULL"}


def test_validate_new_schemas_is_accepted_and_answered(client: TestClient) -> None:
    """validateNewSchemas is stored and answered like the other flags."""
    response = client.put("/config", json={"validateNewSchemas": True})
    assert response.status_code == 200
    assert client.get("/config").json()["validateNewSchemas"] is True


def test_a_flag_of_the_wrong_type_is_422(client: TestClient) -> None:
    """A non-boolean normalize is refused with 422, as Jackson's mapping refuses it."""
    response = client.put("/config/users", json={"normalize": "yes"})
    assert (response.status_code, response.json()["error_code"]) == (422, 422)


def test_an_unknown_level_is_still_42203(client: TestClient) -> None:
    """An unknown level in a multi-field update is 42203 and changes nothing."""
    response = client.put("/config/users", json={"normalize": True, "compatibility": "SIDEWAYS"})
    assert response.json()["error_code"] == 42203
    assert client.get("/config/users").status_code == 404


def test_global_config_always_names_a_level(client: TestClient) -> None:
    """GET /config answers the default level beside fields set globally."""
    client.put("/config", json={"normalize": True})
    assert client.get("/config").json() == {"normalize": True, "compatibilityLevel": "BACKWARD"}


def test_default_to_global_fills_a_subjects_unset_fields(client: TestClient) -> None:
    """GET /config/{s}?defaultToGlobal=true answers the subject's fields over the global ones."""
    client.put("/config", json={"compatibility": "FULL", "normalize": True})
    client.put("/config/users", json={"compatibility": "NONE"})
    assert client.get("/config/users?defaultToGlobal=true").json() == {
        "normalize": True,
        "compatibilityLevel": "NONE",
    }


def test_global_config_accepts_default_to_global(client: TestClient) -> None:
    """GET /config?defaultToGlobal=true answers the global config."""
    client.put("/config", json={"compatibility": "FULL_TRANSITIVE"})
    body = client.get("/config?defaultToGlobal=true").json()
    assert body == {"compatibilityLevel": "FULL_TRANSITIVE"}


def test_deleting_the_global_config_resets_every_field(client: TestClient) -> None:
    """DELETE /config answers the old config, and the server's default applies again."""
    client.put("/config", json={"compatibility": "FULL", "normalize": True})
    assert client.delete("/config").json() == {"normalize": True, "compatibilityLevel": "FULL"}
    assert client.get("/config").json() == {"compatibilityLevel": "BACKWARD"}


def test_deleting_a_subject_config_answers_all_its_fields(client: TestClient) -> None:
    """DELETE /config/{s} answers the whole removed config."""
    client.put("/config/users", json={"normalize": True, "alias": "people"})
    assert client.delete("/config/users").json() == {"alias": "people", "normalize": True}


def test_normalize_in_the_global_config_applies_to_registration(client: TestClient) -> None:
    """With normalize set globally, two spellings of one schema register as one id."""
    client.put("/config", json={"normalize": True})
    assert _register(client, "r", QUALIFIED) == _register(client, "r", SPLIT)
    assert client.get("/subjects/r/versions").json() == [1]


def test_normalize_in_a_subject_config_applies_to_lookup(client: TestClient) -> None:
    """With normalize set on the subject, a lookup finds the other spelling."""
    client.put("/config/r", json={"normalize": True})
    _register(client, "r", QUALIFIED)
    assert client.post("/subjects/r", json={"schema": SPLIT}).json()["version"] == 1


def test_a_subjects_normalize_false_overrides_the_global_true(client: TestClient) -> None:
    """A subject's own normalize=false wins over the global normalize=true."""
    client.put("/config", json={"normalize": True, "compatibility": "NONE"})
    client.put("/config/r", json={"normalize": False})
    _register(client, "r", QUALIFIED)
    _register(client, "r", SPLIT)
    assert client.get("/subjects/r/versions").json() == [1, 2]


def test_normalize_in_config_is_not_applied_in_import_mode(client: TestClient) -> None:
    """In IMPORT mode the schema is stored as given even with normalize set in config."""
    client.put("/config", json={"normalize": True})
    client.put("/mode", json={"mode": "IMPORT"})
    payload = {"schema": QUALIFIED, "id": 7, "version": 1}
    assert client.post("/subjects/r/versions", json=payload).json() == {"id": 7}
    payload = {"schema": SPLIT, "id": 8, "version": 2}
    assert client.post("/subjects/r/versions", json=payload).json() == {"id": 8}


def test_the_default_level_is_a_server_setting(evp_database: str) -> None:
    """create_app(default_compatibility=NONE) answers NONE and accepts breaking changes."""
    app = create_app(evp_database, default_compatibility=CompatibilityLevel.NONE)
    with TestClient(app) as client:
        assert client.get("/config").json() == {"compatibilityLevel": "NONE"}
        _register(client, "users", USER_V1)
        _register(client, "users", USER_BREAKING)


def test_validate_fields_refuses_an_invalid_field_name(client: TestClient) -> None:
    """With validateFields on, a field name that is not an Avro name is 42201."""
    client.put("/config/users", json={"validateFields": True})
    response = client.post("/subjects/users/versions", json={"schema": BAD_FIELD_NAME})
    assert (response.status_code, response.json()["error_code"]) == (422, 42201)


def test_validate_new_schemas_refuses_an_invalid_field_name(client: TestClient) -> None:
    """validateNewSchemas set globally refuses the same schema."""
    client.put("/config", json={"validateNewSchemas": True})
    response = client.post("/subjects/users/versions", json={"schema": BAD_FIELD_NAME})
    assert response.json()["error_code"] == 42201


def test_without_validation_an_invalid_field_name_is_accepted(client: TestClient) -> None:
    """With validateFields off (the default) the schema registers, as Confluent accepts it."""
    _register(client, "users", BAD_FIELD_NAME)


def test_an_alias_sends_writes_and_reads_to_the_aliased_subject(client: TestClient) -> None:
    """A subject whose config names an alias registers and reads under the aliased subject."""
    client.put("/config/short", json={"alias": "users-value"})
    _register(client, "short", USER_V1)
    assert client.get("/subjects").json() == ["users-value"]
    version = client.get("/subjects/short/versions/1").json()
    assert (version["subject"], version["id"]) == ("users-value", 1)
    assert client.post("/subjects/short", json={"schema": USER_V1}).json()["version"] == 1


def test_an_alias_applies_the_aliased_subjects_compatibility(client: TestClient) -> None:
    """A write through an alias is checked against the aliased subject's versions."""
    client.put("/config/short", json={"alias": "users-value"})
    _register(client, "users-value", USER_V1)
    response = client.post("/subjects/short/versions", json={"schema": USER_BREAKING})
    assert response.json()["error_code"] == 40901


def test_a_global_alias_does_not_apply_to_subjects(client: TestClient) -> None:
    """An alias in the global config sends no subject anywhere."""
    client.put("/config", json={"alias": "elsewhere"})
    _register(client, "users", USER_V1)
    assert client.get("/subjects").json() == ["users"]
