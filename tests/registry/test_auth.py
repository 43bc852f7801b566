"""HTTP basic authentication with read-only and read-write users."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient, SchemaRegistryError
from starlette.testclient import TestClient

from evp.registry.app import create_app
from evp.registry.auth import Role, User, parse_users
from evp.registry.testing import running_registry

from .schemas import USER_V1

USERS = (User("writer", "w-secret", Role.READ_WRITE), User("reader", "r-secret", Role.READ_ONLY))
BODY = {"schema": USER_V1}


@pytest.fixture
def client(evp_database: str) -> Iterator[TestClient]:
    """The registry app with two users configured."""
    with TestClient(create_app(evp_database, users=USERS)) as test_client:
        yield test_client


def test_anonymous_write_is_401(client: TestClient) -> None:
    """A registration without credentials: 401 with a Basic challenge."""
    response = client.post("/subjects/users/versions", json=BODY)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    assert response.json()["error_code"] == 40101


def test_wrong_password_is_401(client: TestClient) -> None:
    """A known user with a wrong password is not authenticated."""
    response = client.get("/subjects", auth=("writer", "guess"))
    assert response.status_code == 401


def test_read_only_user_write_is_403(client: TestClient) -> None:
    """A read-only user's registration: 403, and nothing registered."""
    response = client.post("/subjects/users/versions", json=BODY, auth=("reader", "r-secret"))
    assert (response.status_code, response.json()["error_code"]) == (403, 40301)
    assert client.get("/subjects", auth=("reader", "r-secret")).json() == []


def test_read_only_user_may_read_look_up_and_check(client: TestClient) -> None:
    """Reads, lookups and compatibility checks are open to read-only users."""
    client.post("/subjects/users/versions", json=BODY, auth=("writer", "w-secret"))
    reader = ("reader", "r-secret")
    assert client.get("/subjects", auth=reader).json() == ["users"]
    assert client.post("/subjects/users", json=BODY, auth=reader).status_code == 200
    check = client.post("/compatibility/subjects/users/versions/latest", json=BODY, auth=reader)
    assert check.json() == {"is_compatible": True}


def test_read_write_user_may_change_settings(client: TestClient) -> None:
    """A read-write user may set levels and modes."""
    writer = ("writer", "w-secret")
    assert client.put("/config", json={"compatibility": "FULL"}, auth=writer).status_code == 200
    assert client.put("/mode", json={"mode": "READONLY"}, auth=writer).status_code == 200


def test_read_only_user_cannot_change_settings(client: TestClient) -> None:
    """PUT and DELETE of settings are writes: 403 for a read-only user."""
    reader = ("reader", "r-secret")
    assert client.put("/config", json={"compatibility": "FULL"}, auth=reader).status_code == 403
    assert client.delete("/mode/users", auth=reader).status_code == 403


def test_confluent_client_authenticates_with_user_info(evp_database: str) -> None:
    """SchemaRegistryClient's basic.auth.user.info works against a served registry."""
    with running_registry(database_url=evp_database, users=USERS) as registry:
        writer = {"url": registry.url, "basic.auth.user.info": "writer:w-secret"}
        with SchemaRegistryClient(writer) as client:
            assert client.register_schema("users", Schema(USER_V1, "AVRO")) == 1
        reader = {"url": registry.url, "basic.auth.user.info": "reader:r-secret", "max.retries": 0}
        with SchemaRegistryClient(reader) as client, pytest.raises(SchemaRegistryError) as raised:
            client.delete_subject("users")
        assert raised.value.http_status_code == 403


def test_users_parse_from_name_password_lists() -> None:
    """ "a:1,b:2" gives two users with the given role."""
    users = parse_users("a:1, b:2", Role.READ_ONLY)
    assert [(u.name, u.password, u.role) for u in users] == [
        ("a", "1", Role.READ_ONLY),
        ("b", "2", Role.READ_ONLY),
    ]


def test_user_without_password_is_refused() -> None:
    """A user spec lacking ':password' raises ValueError."""
    with pytest.raises(ValueError, match="NAME:PASSWORD"):
        parse_users("alice", Role.READ_WRITE)


def test_passwords_stay_out_of_reprs() -> None:
    """repr(User) never shows the password."""
    assert "w-secret" not in repr(USERS[0])
