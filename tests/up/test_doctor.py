"""``evp doctor``: one line per check, what to do about each failure, exit 1 on any."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from evp.cli.main import main
from evp.up.plan import SERVICES
from evp.up.schemas import register_schemas

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def _environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *, kafka: str, registry: str, database: str
) -> None:
    monkeypatch.setenv("EVP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka)
    monkeypatch.setenv("SCHEMA_REGISTRY_URL", registry)
    for service in SERVICES:
        monkeypatch.setenv(f"{service.upper()}_DATABASE_URL", database)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def reachable(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    kafka_bootstrap_servers: str,
    schema_registry: str,
    evp_database: str,
) -> None:
    """An environment naming Kafka, a registry holding schemas/, and a database for each."""
    register_schemas(SCHEMAS, schema_registry)
    _environment(
        monkeypatch, tmp_path, kafka=kafka_bootstrap_servers, registry=schema_registry,
        database=evp_database,
    )  # fmt: skip


@pytest.mark.usefixtures("reachable")
async def test_everything_reachable_passes_with_a_line_per_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Kafka, the registry, the schemas and six databases: ok each, exit 0."""
    code = await asyncio.to_thread(main, ["doctor", "--schemas", str(SCHEMAS)])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0, lines
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "ok   kafka", "ok   registry", "ok   schemas",
        *(f"ok   database {service}" for service in SERVICES),
    ]  # fmt: skip
    assert lines[-1] == "all checks passed"


async def test_a_registry_that_is_down_is_named_with_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    kafka_bootstrap_servers: str,
    evp_database: str,
) -> None:
    """Unreachable at its URL, start it or set SCHEMA_REGISTRY_URL; schemas skipped; exit 1."""
    url = f"http://127.0.0.1:{_closed_port()}"
    _environment(
        monkeypatch, tmp_path, kafka=kafka_bootstrap_servers, registry=url, database=evp_database
    )
    code = await asyncio.to_thread(main, ["doctor", "--schemas", str(SCHEMAS)])
    out = capsys.readouterr().out
    assert code == 1
    assert f"FAIL registry: unreachable at {url} (SCHEMA_REGISTRY_URL)" in out
    assert "start it with `evp registry serve` (or `evp up`), or set SCHEMA_REGISTRY_URL" in out
    assert "skip schemas: not checked: the registry is unreachable" in out
    assert "ok   kafka" in out
    assert out.splitlines()[-1] == "1 check(s) failed"


async def test_a_database_that_is_down_fails_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An unreachable ORDERS_DATABASE_URL fails the orders check and says which variable."""
    port = _closed_port()
    monkeypatch.setenv("EVP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("SCHEMA_REGISTRY_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("ORDERS_DATABASE_URL", f"postgresql://u:secret@127.0.0.1:{port}/orders")
    for service in SERVICES:
        if service != "orders":
            monkeypatch.delenv(f"{service.upper()}_DATABASE_URL", raising=False)
    code = await asyncio.to_thread(main, ["doctor", "--schemas", str(SCHEMAS)])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL database orders: unreachable (ORDERS_DATABASE_URL)" in out
    assert "fix ORDERS_DATABASE_URL" in out
    assert "secret" not in out
    assert "skip kafka: KAFKA_BOOTSTRAP_SERVERS is not set" in out
    assert "skip database users: USERS_DATABASE_URL is not set" in out
