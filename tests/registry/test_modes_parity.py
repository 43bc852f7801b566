"""Clearing modes as Confluent does: a null mode, and a recursive delete."""

from __future__ import annotations

from starlette.testclient import TestClient


def test_a_null_mode_clears_the_global_mode(client: TestClient) -> None:
    """PUT /mode {"mode": null} clears the global mode, which reads as READWRITE again."""
    client.put("/mode", json={"mode": "READONLY"})
    assert client.put("/mode", json={"mode": None}).json() == {"mode": "READWRITE"}
    assert client.get("/mode").json() == {"mode": "READWRITE"}


def test_a_null_mode_clears_a_subjects_mode(client: TestClient) -> None:
    """PUT /mode/{s} {"mode": null} removes the subject's own mode."""
    client.put("/mode/users", json={"mode": "READONLY"})
    client.put("/mode/users", json={"mode": None})
    assert client.get("/mode/users").json()["error_code"] == 40409


def test_a_body_without_mode_is_still_42204(client: TestClient) -> None:
    """PUT /mode {} names no mode and is refused with 42204."""
    assert client.put("/mode", json={}).json()["error_code"] == 42204


def test_recursive_delete_clears_every_subjects_mode(client: TestClient) -> None:
    """DELETE /mode?recursive=true clears the global mode and every subject's mode."""
    client.put("/mode/a", json={"mode": "READONLY"})
    client.put("/mode/b", json={"mode": "IMPORT"})
    client.put("/mode", json={"mode": "READONLY"})
    assert client.delete("/mode?recursive=true").json() == {"mode": "READONLY"}
    assert client.get("/mode").json() == {"mode": "READWRITE"}
    assert client.get("/mode/a").json()["error_code"] == 40409
    assert client.get("/mode/b").json()["error_code"] == 40409


def test_plain_delete_keeps_subject_modes(client: TestClient) -> None:
    """DELETE /mode without recursive leaves the subjects' own modes in place."""
    client.put("/mode/a", json={"mode": "READONLY"})
    client.delete("/mode")
    assert client.get("/mode/a").json() == {"mode": "READONLY"}
