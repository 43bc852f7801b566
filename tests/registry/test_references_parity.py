"""References as Confluent's registry (8.x) answers them: schemas by id under a subject,
references of references, and deletes of referenced versions."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from .schemas import USER_V1, field, record

COUNTRY = record(field("code", "string"), name="Country", namespace="shop")
ADDRESS = record(
    field("street", "string"), field("country", "shop.Country"), name="Address", namespace="shop"
)
WITH_ADDRESS = record(field("home", "shop.Address"))
COUNTRY_REF = [{"name": "shop.Country", "subject": "country", "version": 1}]
ADDRESS_REF = [{"name": "shop.Address", "subject": "address", "version": 1}]


def _register(client: TestClient, subject: str, schema: str, **extra: Any) -> int:
    response = client.post(f"/subjects/{subject}/versions", json={"schema": schema, **extra})
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


def _two_levels(client: TestClient) -> int:
    """Register users → address → country; answer the id of users."""
    _register(client, "country", COUNTRY)
    _register(client, "address", ADDRESS, references=COUNTRY_REF)
    return _register(client, "users", WITH_ADDRESS, references=ADDRESS_REF)


def _address_and_users(client: TestClient) -> int:
    simple = record(field("street", "string"), name="Address", namespace="shop")
    _register(client, "address", simple)
    return _register(client, "users", WITH_ADDRESS, references=ADDRESS_REF)


# -- GET /schemas/ids/{id}?subject= ------------------------------------------------------


def test_schema_by_id_under_a_subject_names_its_subject_version_and_references(
    client: TestClient,
) -> None:
    """?subject=S adds the subject and the version the id has under S, beside the references."""
    _register(client, "other", USER_V1)
    users = _address_and_users(client)
    body = client.get(f"/schemas/ids/{users}?subject=users").json()
    assert body["subject"] == "users"
    assert body["version"] == 1
    assert body["references"] == ADDRESS_REF


def test_schema_by_id_without_a_subject_names_none(client: TestClient) -> None:
    """Without ?subject the answer carries no subject and no version, as Confluent's."""
    _register(client, "users", USER_V1)
    assert set(client.get("/schemas/ids/1").json()) == {"schema"}


def test_schema_by_id_under_a_subject_picks_that_subjects_version(client: TestClient) -> None:
    """An id held by two subjects answers the version it has under the subject asked for."""
    client.put("/config", json={"compatibility": "NONE"})
    _register(client, "a", record(field("x", "int"), name="Other"))
    _register(client, "a", USER_V1)
    _register(client, "b", USER_V1)
    assert client.get("/schemas/ids/2?subject=a").json()["version"] == 2
    assert client.get("/schemas/ids/2?subject=b").json()["version"] == 1


def test_schema_by_id_under_a_subject_not_holding_it_names_a_holder(client: TestClient) -> None:
    """A subject not holding the id falls back to a subject version that does (Confluent's
    lookup by id within the context)."""
    _register(client, "a", USER_V1)
    body = client.get("/schemas/ids/1?subject=elsewhere").json()
    assert (body["subject"], body["version"]) == ("a", 1)


def test_schema_by_id_under_a_subject_names_a_soft_deleted_version(client: TestClient) -> None:
    """A soft-deleted version still answers for its id under its subject."""
    _register(client, "users", USER_V1)
    client.delete("/subjects/users/versions/1")
    body = client.get("/schemas/ids/1?subject=users").json()
    assert (body["subject"], body["version"]) == ("users", 1)


# -- references of references --------------------------------------------------------------


def test_references_of_references_resolve_at_registration(client: TestClient) -> None:
    """A schema referencing a schema that itself references another registers."""
    users = _two_levels(client)
    assert client.get(f"/schemas/ids/{users}").json()["references"] == ADDRESS_REF


def test_references_of_references_resolve_at_lookup(client: TestClient) -> None:
    """Looking the schema up with its direct reference finds its version."""
    users = _two_levels(client)
    body = {"schema": WITH_ADDRESS, "references": ADDRESS_REF}
    found = client.post("/subjects/users", json=body).json()
    assert (found["id"], found["version"]) == (users, 1)


def test_references_of_references_take_part_in_compatibility(client: TestClient) -> None:
    """A candidate whose field stops being the twice-removed type is checked through it."""
    _two_levels(client)
    same = {"schema": WITH_ADDRESS, "references": ADDRESS_REF}
    url = "/compatibility/subjects/users/versions/latest"
    assert client.post(url, json=same).json() == {"is_compatible": True}
    changed = {"schema": record(field("home", "string"))}
    assert client.post(url, json=changed).json() == {"is_compatible": False}


def test_deeper_references_are_counted_once_in_referencedby(client: TestClient) -> None:
    """referencedby lists direct referrers only: country is referenced by address alone."""
    _two_levels(client)
    assert client.get("/subjects/country/versions/1/referencedby").json() == [2]


# -- deletes of referenced versions ----------------------------------------------------------


def test_soft_deleted_referrers_are_not_listed_in_referencedby(client: TestClient) -> None:
    """Once the referencing version is soft-deleted, referencedby no longer lists it."""
    _address_and_users(client)
    client.delete("/subjects/users/versions/1")
    assert client.get("/subjects/address/versions/1/referencedby").json() == []


def test_a_reference_held_only_by_soft_deleted_versions_does_not_block_deletes(
    client: TestClient,
) -> None:
    """A version referenced only by soft-deleted versions can be deleted, then purged."""
    _address_and_users(client)
    client.delete("/subjects/users")
    assert client.delete("/subjects/address/versions/1").json() == 1
    assert client.delete("/subjects/address/versions/1?permanent=true").json() == 1


def test_a_live_referrer_still_blocks_deletes(client: TestClient) -> None:
    """A version a live version references is refused with 42206."""
    _address_and_users(client)
    response = client.delete("/subjects/address/versions/1")
    assert (response.status_code, response.json()["error_code"]) == (422, 42206)


def test_a_soft_deleted_subject_referencing_itself_can_be_purged(client: TestClient) -> None:
    """Permanently deleting a subject whose versions reference each other succeeds."""
    client.put("/config/s", json={"compatibility": "NONE"})
    simple = record(field("street", "string"), name="Address", namespace="shop")
    _register(client, "s", simple)
    refs = [{"name": "shop.Address", "subject": "s", "version": 1}]
    _register(client, "s", WITH_ADDRESS, references=refs)
    assert client.delete("/subjects/s/versions/2").json() == 2
    assert client.delete("/subjects/s").json() == [1]
    assert client.delete("/subjects/s?permanent=true").json() == [1, 2]


def test_registering_with_a_purged_reference_is_42201(client: TestClient) -> None:
    """A reference to a permanently deleted version makes a new registration fail with 42201."""
    _address_and_users(client)
    client.delete("/subjects/users")
    client.delete("/subjects/address")
    client.delete("/subjects/address?permanent=true")
    body = {"schema": WITH_ADDRESS, "references": ADDRESS_REF}
    response = client.post("/subjects/more/versions", json=body)
    assert (response.status_code, response.json()["error_code"]) == (422, 42201)
    assert (
        'No schema reference found for subject "address" and version 1'
        in (response.json()["message"])
    )


def test_a_soft_deleted_referrer_keeps_its_schema_after_its_reference_is_purged(
    client: TestClient,
) -> None:
    """The referrer's id still answers its text and references once the target is purged."""
    users = _address_and_users(client)
    client.delete("/subjects/users")
    client.delete("/subjects/address")
    client.delete("/subjects/address?permanent=true")
    body = client.get(f"/schemas/ids/{users}?subject=users").json()
    assert body["references"] == ADDRESS_REF
    assert (body["subject"], body["version"]) == ("users", 1)
    assert client.get("/subjects/users/versions/1?deleted=true").json()["id"] == users


def test_a_live_version_referencing_its_own_subject_blocks_deleting_it(
    client: TestClient,
) -> None:
    """Soft-deleting a subject whose live version references another of its versions is
    42206, as Confluent checks every version's live referrers first."""
    client.put("/config/s", json={"compatibility": "NONE"})
    _register(client, "s", record(field("street", "string"), name="Address", namespace="shop"))
    refs = [{"name": "shop.Address", "subject": "s", "version": 1}]
    _register(client, "s", WITH_ADDRESS, references=refs)
    response = client.delete("/subjects/s")
    assert (response.status_code, response.json()["error_code"]) == (422, 42206)


def test_a_reference_to_the_latest_of_no_subject_is_42201(client: TestClient) -> None:
    """A reference to version -1 of a subject with no live version: Confluent's 42201 words."""
    refs = [{"name": "shop.Address", "subject": "nowhere", "version": -1}]
    response = client.post(
        "/subjects/users/versions", json={"schema": WITH_ADDRESS, "references": refs}
    )
    assert (response.status_code, response.json()["error_code"]) == (422, 42201)
    assert (
        'No schema reference found for subject "nowhere" and version -1'
        in (response.json()["message"])
    )
