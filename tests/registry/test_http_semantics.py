"""Registry semantics over HTTP: ids, versions, deletes, references, modes and config."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from .schemas import USER_BREAKING, USER_V1, USER_V2, field, record

ADDRESS = record(field("street", "string"), name="Address", namespace="shop")
WITH_ADDRESS = record(field("home", "shop.Address"))
ADDRESS_REF = [{"name": "shop.Address", "subject": "address", "version": 1}]


def _register(client: TestClient, subject: str, schema: str, **extra: object) -> int:
    response = client.post(f"/subjects/{subject}/versions", json={"schema": schema, **extra})
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


def test_same_schema_under_two_subjects_shares_its_id(client: TestClient) -> None:
    """Ids are global: a schema registered again under another subject keeps its id."""
    assert _register(client, "a", USER_V1) == _register(client, "b", USER_V1)


def test_reregistering_returns_the_existing_id_and_version(client: TestClient) -> None:
    """Registering an already-registered schema adds no version."""
    first = _register(client, "users", USER_V1)
    assert _register(client, "users", json.dumps(json.loads(USER_V1), indent=2)) == first
    assert client.get("/subjects/users/versions").json() == [1]


def test_versions_count_up_per_subject(client: TestClient) -> None:
    """Two compatible schemas become versions 1 and 2 with ids 1 and 2."""
    assert [_register(client, "users", USER_V1), _register(client, "users", USER_V2)] == [1, 2]
    assert client.get("/subjects/users/versions").json() == [1, 2]


def test_version_shape_omits_the_avro_schema_type(client: TestClient) -> None:
    """GET a version answers subject, version, id and schema only."""
    _register(client, "users", USER_V1)
    body = client.get("/subjects/users/versions/1").json()
    assert set(body) == {"subject", "version", "id", "schema"}
    assert (body["subject"], body["version"], body["id"]) == ("users", 1, 1)


def test_latest_and_minus_one_name_the_newest_version(client: TestClient) -> None:
    """latest and -1 both resolve to the highest live version."""
    _register(client, "users", USER_V1)
    _register(client, "users", USER_V2)
    assert client.get("/subjects/users/versions/latest").json()["version"] == 2
    assert client.get("/subjects/users/versions/-1").json()["version"] == 2


def test_schema_only_endpoints_answer_the_raw_text(client: TestClient) -> None:
    """/schema endpoints answer the schema itself, not a string holding it."""
    _register(client, "users", USER_V1)
    by_version = client.get("/subjects/users/versions/1/schema").json()
    by_id = client.get("/schemas/ids/1/schema").json()
    assert by_version == by_id == json.loads(USER_V1)


def test_soft_deleted_versions_keep_their_ids(client: TestClient) -> None:
    """After a soft delete the id still resolves and deleted=true lists the version."""
    _register(client, "users", USER_V1)
    assert client.delete("/subjects/users/versions/1").json() == 1
    assert client.get("/schemas/ids/1").status_code == 200
    assert client.get("/subjects/users/versions/1").status_code == 404
    assert client.get("/subjects/users/versions/1?deleted=true").json()["id"] == 1
    assert client.get("/subjects/users/versions?deleted=true").json() == [1]


def test_soft_deleted_subjects_are_listed_only_with_deleted(client: TestClient) -> None:
    """GET /subjects hides soft-deleted subjects unless deleted=true."""
    _register(client, "users", USER_V1)
    assert client.delete("/subjects/users").json() == [1]
    assert client.get("/subjects").json() == []
    assert client.get("/subjects?deleted=true").json() == ["users"]
    assert client.get("/subjects?deletedOnly=true").json() == ["users"]


def test_permanent_delete_after_soft_delete_removes_the_schema(client: TestClient) -> None:
    """Soft then permanent delete: the versions and the orphaned id are gone."""
    _register(client, "users", USER_V1)
    client.delete("/subjects/users")
    assert client.delete("/subjects/users?permanent=true").json() == [1]
    assert client.get("/subjects?deleted=true").json() == []
    assert client.get("/schemas/ids/1").status_code == 404


def test_permanently_deleted_version_keeps_a_shared_id(client: TestClient) -> None:
    """Purging one subject's version keeps the id another subject still holds."""
    _register(client, "a", USER_V1)
    _register(client, "b", USER_V1)
    client.delete("/subjects/a/versions/1")
    client.delete("/subjects/a/versions/1?permanent=true")
    assert client.get("/schemas/ids/1/subjects").json() == ["b"]


def test_reregistering_after_a_soft_delete_gets_a_new_version_and_the_old_id(
    client: TestClient,
) -> None:
    """As in Confluent's registry: same id, next version, the old deleted version dropped."""
    _register(client, "users", USER_V1)
    client.delete("/subjects/users")
    assert _register(client, "users", USER_V1) == 1
    assert client.get("/subjects/users/versions?deleted=true").json() == [2]


def test_versions_are_not_reused_after_a_soft_delete(client: TestClient) -> None:
    """A new schema after a soft-deleted version gets the next number, not the freed one."""
    _register(client, "users", USER_V1)
    client.delete("/subjects/users/versions/1")
    _register(client, "users", USER_BREAKING)
    assert client.get("/subjects/users/versions").json() == [2]


def test_soft_deleted_versions_are_not_checked_for_compatibility(client: TestClient) -> None:
    """An incompatible schema is accepted once the version it breaks is deleted."""
    _register(client, "users", USER_V1)
    client.delete("/subjects/users/versions/1")
    assert (
        client.post("/subjects/users/versions", json={"schema": USER_BREAKING}).status_code == 200
    )


def test_lookup_finds_the_version_holding_a_schema(client: TestClient) -> None:
    """POST /subjects/{s} answers subject, version, id and schema."""
    _register(client, "users", USER_V1)
    _register(client, "users", USER_V2)
    body = client.post("/subjects/users", json={"schema": USER_V1}).json()
    assert (body["subject"], body["version"], body["id"]) == ("users", 1, 1)


def test_normalize_makes_namespace_spellings_one_schema(client: TestClient) -> None:
    """With normalize=true, a fully-qualified name and a namespace key give one id."""
    qualified = json.dumps({"type": "record", "name": "ns.R", "fields": []})
    split = json.dumps({"type": "record", "name": "R", "namespace": "ns", "fields": []})
    first = client.post("/subjects/r/versions?normalize=true", json={"schema": qualified})
    second = client.post("/subjects/r/versions?normalize=true", json={"schema": split})
    assert first.json() == second.json() == {"id": 1}


def test_references_resolve_and_are_returned(client: TestClient) -> None:
    """A schema using a referenced type registers, and GET shows its references."""
    _register(client, "address", ADDRESS)
    schema_id = _register(client, "users", WITH_ADDRESS, references=ADDRESS_REF)
    assert client.get("/subjects/users/versions/1").json()["references"] == ADDRESS_REF
    assert client.get(f"/schemas/ids/{schema_id}").json()["references"] == ADDRESS_REF
    assert client.get("/subjects/address/versions/1/referencedby").json() == [schema_id]


def test_reference_to_latest_is_pinned_to_the_version_it_meant(client: TestClient) -> None:
    """A reference with version -1 is stored with the latest version number at the time."""
    _register(client, "address", ADDRESS)
    refs = [{"name": "shop.Address", "subject": "address", "version": -1}]
    _register(client, "users", WITH_ADDRESS, references=refs)
    assert client.get("/subjects/users/versions/1").json()["references"] == ADDRESS_REF


def test_referenced_types_are_used_for_compatibility(client: TestClient) -> None:
    """Compatibility is checked through the referenced type's definition."""
    _register(client, "address", ADDRESS)
    _register(client, "users", WITH_ADDRESS, references=ADDRESS_REF)
    body = {"schema": record(field("home", "string"))}
    response = client.post("/compatibility/subjects/users/versions/latest?verbose=true", json=body)
    assert response.json()["is_compatible"] is False


def test_schema_ids_list_their_subjects_and_versions(client: TestClient) -> None:
    """/schemas/ids/{id}/subjects and /versions list every holder."""
    _register(client, "a", USER_V1)
    _register(client, "b", USER_V1)
    assert client.get("/schemas/ids/1/subjects").json() == ["a", "b"]
    assert client.get("/schemas/ids/1/versions").json() == [
        {"subject": "a", "version": 1},
        {"subject": "b", "version": 1},
    ]


def test_subjects_filter_by_prefix_and_paginate(client: TestClient) -> None:
    """subjectPrefix filters subjects; offset and limit page them."""
    for name in ("orders-value", "orders-key", "users-value"):
        _register(client, name, USER_V1)
    assert client.get("/subjects?subjectPrefix=orders").json() == ["orders-key", "orders-value"]
    assert client.get("/subjects?offset=1&limit=1").json() == ["orders-value"]


def test_compatibility_check_reports_verbose_messages(client: TestClient) -> None:
    """verbose=true answers is_compatible with Confluent's messages."""
    _register(client, "users", USER_V1)
    url = "/compatibility/subjects/users/versions/latest?verbose=true"
    body = client.post(url, json={"schema": USER_BREAKING}).json()
    assert body["is_compatible"] is False
    assert body["messages"][0].startswith("{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE'")


def test_compatibility_against_an_empty_subject_is_true(client: TestClient) -> None:
    """Checking against latest of a subject without versions is compatible."""
    response = client.post("/compatibility/subjects/new/versions/latest", json={"schema": USER_V1})
    assert response.json() == {"is_compatible": True}


def test_compatibility_against_all_versions_follows_the_level(client: TestClient) -> None:
    """POST /compatibility/subjects/{s}/versions checks every version under a transitive level."""
    client.put("/config/users", json={"compatibility": "BACKWARD_TRANSITIVE"})
    _register(client, "users", USER_V1)
    client.put("/config/users", json={"compatibility": "NONE"})
    _register(client, "users", record(field("id", "string")))
    client.put("/config/users", json={"compatibility": "BACKWARD_TRANSITIVE"})
    body = {"schema": record(field("id", "string"))}
    assert client.post("/compatibility/subjects/users/versions", json=body).json() == {
        "is_compatible": False
    }


def test_subject_level_overrides_the_global_level(client: TestClient) -> None:
    """A subject's NONE lets through what the global BACKWARD would refuse."""
    _register(client, "users", USER_V1)
    assert client.put("/config/users", json={"compatibility": "none"}).json() == {
        "compatibility": "NONE"
    }
    assert (
        client.post("/subjects/users/versions", json={"schema": USER_BREAKING}).status_code == 200
    )


def test_config_defaults_to_global_on_request(client: TestClient) -> None:
    """defaultToGlobal=true answers the global level for a subject without its own."""
    client.put("/config", json={"compatibility": "FULL"})
    assert client.get("/config").json() == {"compatibilityLevel": "FULL"}
    assert client.get("/config/users?defaultToGlobal=true").json() == {"compatibilityLevel": "FULL"}


def test_deleting_config_answers_the_old_level(client: TestClient) -> None:
    """DELETE /config/{s} answers the removed level; DELETE /config resets to BACKWARD."""
    client.put("/config/users", json={"compatibility": "FORWARD"})
    client.put("/config", json={"compatibility": "FULL"})
    assert client.delete("/config/users").json() == {"compatibilityLevel": "FORWARD"}
    assert client.delete("/config").json() == {"compatibilityLevel": "FULL"}
    assert client.get("/config").json() == {"compatibilityLevel": "BACKWARD"}


def test_soft_deleting_a_subject_forgets_its_settings(client: TestClient) -> None:
    """A subject's own level goes with its last live version, as in Confluent's registry."""
    _register(client, "users", USER_V1)
    client.put("/config/users", json={"compatibility": "NONE"})
    client.delete("/subjects/users")
    assert client.get("/config/users").status_code == 404


def test_import_mode_registers_with_given_id_and_version(client: TestClient) -> None:
    """In IMPORT mode the given id and version are used, and later ids come after them."""
    assert client.put("/mode", json={"mode": "IMPORT"}).json() == {"mode": "IMPORT"}
    _register(client, "users", USER_V1, id=42, version=3)
    assert client.get("/subjects/users/versions/3").json()["id"] == 42
    client.put("/mode", json={"mode": "READWRITE"})
    assert _register(client, "others", record(field("x", "int"), name="Other")) == 43


def test_import_mode_needs_force_on_a_non_empty_registry(client: TestClient) -> None:
    """force=true switches a non-empty registry to IMPORT."""
    _register(client, "users", USER_V1)
    assert client.put("/mode?force=true", json={"mode": "IMPORT"}).json() == {"mode": "IMPORT"}


def test_registration_without_id_is_refused_in_import_mode(client: TestClient) -> None:
    """IMPORT mode only accepts schemas with an id."""
    client.put("/mode", json={"mode": "IMPORT"})
    assert client.post("/subjects/users/versions", json={"schema": USER_V1}).status_code == 422


def test_global_readonly_override_wins_over_subject_modes(client: TestClient) -> None:
    """READONLY_OVERRIDE globally refuses writes even to a READWRITE subject."""
    client.put("/mode/users", json={"mode": "READWRITE"})
    client.put("/mode", json={"mode": "READONLY_OVERRIDE"})
    assert client.get("/mode/users").json() == {"mode": "READONLY_OVERRIDE"}
    assert client.post("/subjects/users/versions", json={"schema": USER_V1}).status_code == 422


def test_subject_mode_can_be_deleted(client: TestClient) -> None:
    """DELETE /mode/{s} answers the removed mode and the subject follows the global one."""
    client.put("/mode/users", json={"mode": "READONLY"})
    assert client.delete("/mode/users").json() == {"mode": "READONLY"}
    assert client.get("/mode/users?defaultToGlobal=true").json() == {"mode": "READWRITE"}


def test_every_confluent_media_type_is_served(client: TestClient) -> None:
    """The answer's Content-Type follows the Accept header among Confluent's three types."""
    for media in (
        "application/vnd.schemaregistry.v1+json",
        "application/vnd.schemaregistry+json",
        "application/json",
    ):
        response = client.get("/subjects", headers={"Accept": media})
        assert response.headers["content-type"].startswith(media)


def test_schema_types_lists_avro_only(client: TestClient) -> None:
    """GET /schemas/types answers ["AVRO"]."""
    assert client.get("/schemas/types").json() == ["AVRO"]


_TAGGED = (
    '{"type":"record","name":"Tagged","fields":'
    '[{"name":"a","type":"int"}],"zeta":"last","alpha":"first"}'
)


def test_custom_properties_in_another_order_are_another_schema(client: TestClient) -> None:
    """As in Confluent's registry, reordering custom properties registers a new schema."""
    swapped = _TAGGED.replace('"zeta":"last","alpha":"first"', '"alpha":"first","zeta":"last"')
    first = _register(client, "tagged", _TAGGED)
    assert _register(client, "tagged", _TAGGED) == first
    assert _register(client, "tagged", swapped) != first
    assert client.get(f"/schemas/ids/{first}").json()["schema"] == _TAGGED
