"""docker-compose.yml, checked structurally (no Docker engine runs in CI)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from evp.cli.main import build_parser
from evp.cli.serve import load_service
from evp.eventstore.database import database_url_variable
from evp.messaging.config import CLIENT_PROPERTY_PREFIX
from evp.service import SERVICES_GROUP
from evp.service.settings import ServiceSettings, port_variable
from evp.web.auth.jwks import JWKS_PATH
from shop.inventory.settings import InventorySettings
from shop.notifications.settings import NotificationsSettings
from shop.orders.settings import OrdersSettings
from shop.payments.settings import PaymentsSettings
from shop.users.settings import UsersSettings

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


# --- The shop on real parts -------------------------------------------------------------------

# The standard OpenTelemetry variables: read by the exporter's SDK, not by a call in our code.
OTEL_VARIABLES = frozenset({"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME"})

# A variable read through a helper (``env_int(env, "X", ...)``, ``_optional_int(env, X)``)
# or a mapping (``env.get("X")``, ``os.getenv("X")``); the name is a literal or a constant.
_READ_BY_HELPER = re.compile(r"\b(?:env_\w+|_optional_int)\(\s*\w+,\s*(\"[A-Z0-9_]+\"|[A-Z_]\w*)")
_READ_BY_MAPPING = re.compile(r"\b(?:env\.get|environ\.get|getenv)\(\s*(\"[A-Z0-9_]+\"|[A-Z_]\w*)")
_INTERPOLATION = re.compile(r"\$\{\w+(?::?-([^}]*))?\}")


def _variables_read_by(source: str) -> set[str]:
    """The environment variable names ``source`` reads, resolving module constants."""
    names = set()
    for argument in _READ_BY_HELPER.findall(source) + _READ_BY_MAPPING.findall(source):
        if argument.startswith('"'):
            names.add(argument.strip('"'))
            continue
        constant = re.search(rf'^{argument}\s*(?::[^=]+)?=\s*"([A-Z0-9_]+)"', source, re.M)
        if constant:
            names.add(constant.group(1))
    return names


@pytest.fixture(scope="module")
def variables_read() -> frozenset[str]:
    """Every fixed environment variable name the runtime and the shop read."""
    roots = (REPO / "shared" / "evp", REPO / "services" / "shop")
    names: set[str] = set()
    for path in (p for root in roots for p in root.rglob("*.py")):
        names |= _variables_read_by(path.read_text(encoding="utf-8"))
    return frozenset(names)


def _shop(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services the file runs with ``evp serve NAME``, by NAME."""
    served = {}
    for service in _services(compose).values():
        command = service.get("command") or []
        command = command if isinstance(command, list) else shlex.split(command)
        if command[:2] == ["evp", "serve"]:
            served[command[2]] = service
    return served


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """The service's environment as the container sees it, ``${X:-default}`` as its default."""
    environment = service.get("environment") or {}
    assert isinstance(environment, dict), "environment is written as a mapping"
    return {
        key: _INTERPOLATION.sub(lambda m: m.group(1) or "", str(value))
        for key, value in environment.items()
    }


def _host_ports(service: dict[str, Any]) -> list[str]:
    """The host ports a service publishes (``"HOST:CONTAINER"`` or ``"IP:HOST:CONTAINER"``)."""
    ports = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            ports.append(str(entry["published"]))
        else:
            parts = str(entry).split("/")[0].split(":")
            ports.append(parts[-2] if len(parts) > 1 else parts[0])
    return ports


def test_the_scan_finds_variables_read_through_constants_and_mappings(
    variables_read: frozenset[str],
) -> None:
    """The scan sees a helper's literal, a module constant (inventory) and ``env.get`` (users)."""
    assert "KAFKA_BOOTSTRAP_SERVERS" in variables_read
    assert "INVENTORY_EXPIRY_INTERVAL_S" in variables_read
    assert "USERS_ADMIN_PASSWORD" in variables_read


def test_every_shop_service_runs_under_its_own_name(compose: dict[str, Any]) -> None:
    """The file serves exactly the installed services, each as the compose service of its name."""
    shop = _shop(compose)
    installed = {point.name for point in entry_points(group=SERVICES_GROUP)}
    assert set(shop) == installed
    for name, service in shop.items():
        assert load_service(name).name == name
        assert _services(compose)[name] is service, f"`evp serve {name}` runs under another key"


def test_each_shop_service_has_its_own_postgres(compose: dict[str, Any]) -> None:
    """Each service's database URL names a Postgres of its own, which it waits for healthy."""
    services = _services(compose)
    hosts = {}
    for name, service in _shop(compose).items():
        url = urlsplit(_environment(service)[database_url_variable(name)])
        assert url.scheme in ("postgresql", "postgres"), name
        assert url.hostname is not None, name
        hosts[name] = url.hostname
        assert services[url.hostname]["image"].startswith("postgres:16"), name
        condition = (service.get("depends_on") or {}).get(url.hostname, {}).get("condition")
        assert condition == "service_healthy", f"{name} does not wait for {url.hostname}"
    assert len(set(hosts.values())) == len(hosts), f"a database is shared: {hosts}"


def test_postgres_services_are_checked_with_pg_isready_and_keep_a_volume(
    compose: dict[str, Any],
) -> None:
    """Every Postgres has a pg_isready health check and its data in a named volume."""
    postgres = {
        n: s for n, s in _services(compose).items() if s.get("image", "").startswith("postgres")
    }
    assert len(postgres) >= len(_shop(compose))
    declared = set(compose.get("volumes") or {})
    for name, service in postgres.items():
        assert "pg_isready" in " ".join(service["healthcheck"]["test"]), name
        sources = {str(v).split(":", 1)[0] for v in service.get("volumes") or []}
        assert sources & declared, f"{name} keeps its data in the container"


def test_shop_services_wait_for_kafka_the_schemas_and_users(compose: dict[str, Any]) -> None:
    """A service starts once Kafka is healthy, the schemas are registered and users is healthy."""
    for name, service in _shop(compose).items():
        conditions = {k: v.get("condition") for k, v in service["depends_on"].items()}
        assert conditions.get("kafka") == "service_healthy", name
        assert conditions.get("schemas") == "service_completed_successfully", name
        if name != "users":
            assert conditions.get("users") == "service_healthy", name


def test_shop_settings_in_the_file_are_read_by_the_code(
    compose: dict[str, Any], variables_read: frozenset[str]
) -> None:
    """Every variable set for a shop service is one the code (or OpenTelemetry) reads."""
    for name, service in _shop(compose).items():
        known = variables_read | OTEL_VARIABLES
        known |= {database_url_variable(name), port_variable(name)}
        for key in _environment(service):
            assert key in known or key.startswith(CLIENT_PROPERTY_PREFIX), (
                f"{name}: {key} is read by nothing"
            )


def test_every_setting_a_shop_service_needs_in_compose_is_set(compose: dict[str, Any]) -> None:
    """Without these a service falls back to an embedded part or listens on loopback only."""
    for name, service in _shop(compose).items():
        needed = {
            database_url_variable(name),
            port_variable(name),
            "KAFKA_BOOTSTRAP_SERVERS",
            "SCHEMA_REGISTRY_URL",
            "EVP_HOST",
            *OTEL_VARIABLES,
        }
        if name != "users":
            needed.add("EVP_JWKS_URL")
        environment = _environment(service)
        assert not needed - environment.keys(), f"{name} misses {needed - environment.keys()}"
        assert all(environment[key] for key in needed), name


def test_shop_environments_are_accepted_by_the_settings_classes(compose: dict[str, Any]) -> None:
    """Each service's environment parses with the settings it is read by at start-up."""
    own: dict[str, Callable[[Mapping[str, str]], object]] = {
        "users": UsersSettings.from_env,
        "orders": OrdersSettings.from_env,
        "inventory": InventorySettings.from_env,
        "payments": PaymentsSettings.from_env,
        "notifications": NotificationsSettings.from_env,
    }
    for name, service in _shop(compose).items():
        environment = _environment(service)
        settings = ServiceSettings.from_env(name, environment)
        assert settings.host == "0.0.0.0", name
        assert settings.database.url is not None, name
        assert settings.messaging.bootstrap_servers == "kafka:9092", name
        if name in own:
            own[name](environment)


def test_shop_services_point_at_the_compose_kafka_and_registry(compose: dict[str, Any]) -> None:
    """The bootstrap address and registry URL name the kafka and schema-registry services."""
    services = _services(compose)
    for name, service in _shop(compose).items():
        environment = _environment(service)
        kafka_host = environment["KAFKA_BOOTSTRAP_SERVERS"].split(":")[0]
        registry_host = urlsplit(environment["SCHEMA_REGISTRY_URL"]).hostname
        assert kafka_host in services, name
        assert registry_host in services, name
        assert "healthcheck" in services[kafka_host], name


def test_tokens_are_verified_against_the_users_service(compose: dict[str, Any]) -> None:
    """Every service but users fetches the public keys from the users service's port."""
    shop = _shop(compose)
    users_port = _environment(shop["users"])[port_variable("users")]
    for name, service in shop.items():
        if name != "users":
            jwks = _environment(service)["EVP_JWKS_URL"]
            assert jwks == f"http://users:{users_port}{JWKS_PATH}", name


def test_shop_health_checks_ask_their_own_readiness(compose: dict[str, Any]) -> None:
    """Each service's health check asks /health/ready on its port, with python (no curl)."""
    for name, service in _shop(compose).items():
        port = _environment(service)[port_variable(name)]
        test = service["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "-c"], name
        assert f"http://localhost:{port}/health/ready" in test[3], name
        compile(test[3], f"{name} health check", "exec")


def test_shop_services_publish_their_own_port(compose: dict[str, Any]) -> None:
    """Each service listens on its fixed port and publishes that same port."""
    for name, service in _shop(compose).items():
        port = _environment(service)[port_variable(name)]
        assert f"{port}:{port}" in [str(p) for p in service.get("ports") or []], name


def test_published_ports_do_not_collide(compose: dict[str, Any]) -> None:
    """No two services (profiles included) publish the same host port."""
    owners: dict[str, str] = {}
    for name, service in _services(compose).items():
        for port in _host_ports(service):
            assert port not in owners, f"{name} and {owners[port]} both publish {port}"
            owners[port] = name


def test_notifications_sends_mail_to_mailpit(compose: dict[str, Any]) -> None:
    """The notifications service's SMTP server is Mailpit's SMTP port, not the embedded sink."""
    services = _services(compose)
    environment = _environment(_shop(compose)["notifications"])
    mailpit = services[environment["NOTIFICATIONS_SMTP_HOST"]]
    assert mailpit["image"].startswith("axllent/mailpit")
    assert environment["NOTIFICATIONS_SMTP_PORT"] == "1025"
    settings = NotificationsSettings.from_env(environment)
    assert settings.smtp is not None
    assert (settings.smtp.host, settings.smtp.port) == ("mailpit", 1025)
    assert "8025" in _host_ports(mailpit)


def test_jaeger_receives_otlp_from_every_shop_service(compose: dict[str, Any]) -> None:
    """Jaeger has OTLP enabled, and each service exports to it under its own name."""
    services = _services(compose)
    jaeger = services["jaeger"]
    assert jaeger["image"].startswith("jaegertracing/all-in-one")
    assert str(jaeger["environment"]["COLLECTOR_OTLP_ENABLED"]).lower() == "true"
    assert {"16686", "4317", "4318"} <= set(_host_ports(jaeger))
    for name, service in _shop(compose).items():
        environment = _environment(service)
        assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318", name
        assert environment["OTEL_SERVICE_NAME"] == name


def test_users_admin_password_is_a_marked_demo_default() -> None:
    """The admin password can be overridden from the shell and is flagged as a demo default."""
    text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    assert re.search(r"USERS_ADMIN_PASSWORD: \$\{USERS_ADMIN_PASSWORD:-[^}]+\}", text)
    assert "DEMO DEFAULT" in text
