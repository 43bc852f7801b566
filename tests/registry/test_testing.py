"""The packaged test support: the running_registry context manager and the pytest fixture."""

from __future__ import annotations

from pathlib import Path

import httpx
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from evp.registry.testing import running_registry

from .schemas import USER_V1


def test_schema_registry_fixture_serves_the_api(schema_registry: str) -> None:
    """The fixture's URL answers the registry API over HTTP."""
    assert httpx.get(f"{schema_registry}/subjects").json() == []


def test_running_registry_embeds_postgres_when_given_no_database() -> None:
    """With no arguments a registry runs on a throwaway embedded Postgres."""
    with running_registry() as registry, SchemaRegistryClient({"url": registry.url}) as client:
        assert client.register_schema("users", Schema(USER_V1, "AVRO")) == 1


def test_embedded_data_survives_a_restart(tmp_path: Path) -> None:
    """A registry restarted on the same data directory still has its schemas."""
    with running_registry(data_dir=tmp_path) as registry:
        httpx.post(f"{registry.url}/subjects/users/versions", json={"schema": USER_V1})
    with running_registry(data_dir=tmp_path) as registry:
        assert httpx.get(f"{registry.url}/subjects").json() == ["users"]
