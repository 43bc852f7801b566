"""``evp serve``: one service as a process, configured from the environment only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from evp.cli.main import main
from evp.messaging import MessagingSettings
from evp.postgres.supply import DatabaseSupply
from evp.service.process import service_environment
from evp.up.child import Child
from evp.up.specs import service_spec


@pytest.fixture
def database_url(evp_database_supply: DatabaseSupply) -> Iterator[Callable[[], str]]:
    """A fresh database of the supply, released afterwards."""
    name, url = evp_database_supply.take()
    yield lambda: url
    evp_database_supply.release(name)


async def test_a_served_service_becomes_ready_and_stops_gracefully_on_sigterm(
    messaging_settings: MessagingSettings, database_url: Callable[[], str], tmp_path: Path
) -> None:
    """It prints where it listens, answers ready there, and exits 0 on SIGTERM."""
    env = service_environment("payments", database_url=database_url(), messaging=messaging_settings)
    spec = service_spec("payments", 1, env, tmp_path, target="evp.demo.services:payments")
    child = Child(spec)
    try:
        url = await child.start(timeout=60)  # waits for the line, then /health/ready = 200
        async with httpx.AsyncClient(base_url=url) as client:
            ready = await client.get("/health/ready")
        code = await child.stop(grace=30)
    finally:
        await child.kill()
    assert ready.status_code == 200
    assert code == 0


def test_an_unknown_service_is_named_with_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A name that is neither installed nor importable fails with one line, not a traceback."""
    assert main(["serve", "no-such-service"]) == 2
    error = capsys.readouterr().err
    assert "no service 'no-such-service'" in error
    assert "Traceback" not in error


def test_a_module_attribute_that_is_not_a_service_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``module:attribute`` must name a Service."""
    assert main(["serve", "evp.demo.services:Runtime"]) == 2
    assert "no service 'evp.demo.services:Runtime'" in capsys.readouterr().err
