"""docker-compose.yml, checked structurally (no Docker engine runs in CI)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from evp.cli.main import build_parser

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The parsed compose file."""
    loaded = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services = compose["services"]
    assert isinstance(services, dict)
    return services


def test_every_service_has_an_image_or_a_build(compose: dict[str, Any]) -> None:
    """A service without image or build cannot start."""
    for name, service in _services(compose).items():
        assert "image" in service or "build" in service, name


def test_dependencies_exist_and_health_gated_ones_have_checks(compose: dict[str, Any]) -> None:
    """depends_on names real services; service_healthy needs a healthcheck there."""
    services = _services(compose)
    for name, service in services.items():
        for dependency, spec in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if spec.get("condition") == "service_healthy":
                assert "healthcheck" in services[dependency], dependency


def test_kafka_runs_in_kraft_mode(compose: dict[str, Any]) -> None:
    """Kafka is its own controller; there is no ZooKeeper."""
    kafka = _services(compose)["kafka"]["environment"]
    assert "controller" in kafka["KAFKA_PROCESS_ROLES"]
    assert "KAFKA_CONTROLLER_QUORUM_VOTERS" in kafka
    assert not any("zookeeper" in name for name in _services(compose))


def test_schema_registry_stores_in_the_compose_kafka(compose: dict[str, Any]) -> None:
    """Confluent's registry points at the kafka service's internal listener."""
    registry = _services(compose)["schema-registry"]["environment"]
    assert registry["SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS"].endswith("kafka:9092")


def test_evp_commands_parse_with_the_real_cli(compose: dict[str, Any]) -> None:
    """Every ``evp ...`` command in the file is accepted by the evp argument parser."""
    commands = [s["command"] for s in _services(compose).values() if "command" in s]
    evp_commands = [c if isinstance(c, list) else shlex.split(c) for c in commands]
    evp_commands = [c for c in evp_commands if c and c[0] == "evp"]
    assert evp_commands
    parser = build_parser()
    for command in evp_commands:
        parser.parse_args(command[1:])


def test_platform_settings_in_the_file_are_read_by_the_code(compose: dict[str, Any]) -> None:
    """Each EVP_*, *_DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS or SCHEMA_REGISTRY_URL set is used."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "shared").rglob("*.py"))
    ours = re.compile(r"^(EVP_\w+|\w+_DATABASE_URL|KAFKA_BOOTSTRAP_SERVERS|SCHEMA_REGISTRY_URL)$")
    for name, service in _services(compose).items():
        for key in service.get("environment") or {}:
            if ours.match(key) and not key.startswith("POSTGRES_"):
                pattern = (
                    key
                    if not key.endswith("_DATABASE_URL") or key.startswith("EVP_")
                    else "_DATABASE_URL"
                )
                assert pattern in source, f"{name}: {key} is not read anywhere"


def test_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    """A named volume used by a service is declared at the top level."""
    declared = set(compose.get("volumes") or {})
    for service in _services(compose).values():
        for volume in service.get("volumes") or []:
            source = str(volume).split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in declared, source


def test_dockerfile_copies_every_package_folder() -> None:
    """The image contains the runtime, the codegen, the services and the schemas."""
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    for folder in ("shared", "codegen", "services", "schemas"):
        assert f"COPY {folder} {folder}" in dockerfile
