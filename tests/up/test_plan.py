"""Planning ``evp up`` from the environment: configured parts are used, the rest started."""

from __future__ import annotations

from pathlib import Path

import pytest

from evp.up import SERVICES, Plan, PlanError, parse_replicas


def test_a_bare_environment_starts_everything() -> None:
    """No variables: Postgres with a database per service and the registry, broker, sink."""
    plan = Plan.from_env({})
    assert plan.kafka is None
    assert plan.registry_url is None
    assert plan.smtp is None
    assert plan.embedded_databases == (*SERVICES, "registry")
    assert plan.data_dir == Path(".evp")
    assert plan.postgres_dir == Path(".evp/postgres")
    assert plan.topic_prefix == ""
    assert all(part.started for part in plan.parts() if part.name != "schemas")


def test_configured_parts_are_used_not_started() -> None:
    """Kafka, the registry, SMTP and a database URL from the environment are used as given."""
    plan = Plan.from_env(
        {
            "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
            "SCHEMA_REGISTRY_URL": "http://registry:8081",
            "NOTIFICATIONS_SMTP_HOST": "mail.example",
            "NOTIFICATIONS_SMTP_PORT": "2525",
            "ORDERS_DATABASE_URL": "postgresql://shop@db/orders",
            "EVP_DATA_DIR": "/var/evp",
            "EVP_TOPIC_PREFIX": "dev.",
        }
    )
    parts = {part.name: part for part in plan.parts()}
    assert (parts["kafka"].started, parts["kafka"].where) == (False, "kafka:9092")
    assert (parts["registry"].started, parts["registry"].where) == (False, "http://registry:8081")
    assert (parts["smtp"].started, parts["smtp"].where) == (False, "mail.example:2525")
    assert "orders" not in plan.embedded_databases
    # The registry is configured, so it needs no database here.
    assert plan.embedded_databases == (
        "users",
        "inventory",
        "payments",
        "notifications",
        "analytics",
    )
    assert plan.postgres_dir == Path("/var/evp/postgres")
    assert plan.topic_prefix == "dev."


def test_postgres_is_not_started_when_every_database_is_configured() -> None:
    """All six URLs and the registry's: nothing to embed."""
    env = {f"{s.upper()}_DATABASE_URL": f"postgresql://db/{s}" for s in SERVICES}
    env["EVP_REGISTRY_DATABASE_URL"] = "postgresql://db/registry"
    plan = Plan.from_env(env)
    assert plan.embedded_databases == ()
    assert not next(p for p in plan.parts() if p.name == "postgres").started


def test_a_flag_topic_prefix_wins_over_the_environment() -> None:
    """``--topic-prefix`` overrides EVP_TOPIC_PREFIX."""
    assert Plan.from_env({"EVP_TOPIC_PREFIX": "a."}, topic_prefix="b.").topic_prefix == "b."


def test_replicas_are_parsed_per_service() -> None:
    """``inventory=2`` runs two inventory instances, one of every other service."""
    plan = Plan.from_env({}, replicas=parse_replicas(["inventory=2", "orders=3"]))
    assert plan.instances("inventory") == 2
    assert plan.instances("orders") == 3
    assert plan.instances("users") == 1


@pytest.mark.parametrize("spec", ["inventory", "inventory=0", "inventory=x", "shipping=2"])
def test_a_bad_replicas_flag_is_refused(spec: str) -> None:
    """Not SERVICE=N with a known service and N >= 1: a PlanError naming the flag."""
    with pytest.raises(PlanError) as raised:
        parse_replicas([spec])
    assert raised.value.option == "--replicas"


def test_evp_up_refuses_a_bad_replicas_flag_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Exit 1 before starting anything, naming the flag and the known services."""
    from evp.cli.main import main

    assert main(["up", "--replicas", "shipping=2"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("evp up: 'shipping' is not a service (one of users, orders")
    assert "Traceback" not in error
