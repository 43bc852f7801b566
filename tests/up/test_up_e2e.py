"""``evp up`` end to end: the whole platform as processes, healthy, seeded, and stopped by SIGTERM.

One boot (about 10-20 s on two cores) with two inventory instances, shared by the tests:
the JSON description lists every service, each answers ready, the admin logs in, inventory
lists the seeded catalogue, the console lists both inventory instances; then SIGTERM stops
every child and ``evp up`` exits 0; and nothing it printed or logged holds a secret.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from evp.up.environment import embedded_environment
from evp.up.plan import SERVICES
from evp.up.seed import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
BOOT_TIMEOUT = 90.0


def _wait_for_services(path: Path, process: subprocess.Popen[str]) -> dict[str, Any]:
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, f"evp up exited with {process.returncode}"
        if path.exists():
            state: dict[str, Any] = json.loads(path.read_text())
            pids = state["pids"]
            if all(pids.get(s) for s in SERVICES) and len(pids["inventory"]) == 2:
                return state
        time.sleep(0.2)
    raise AssertionError(f"the services were not listed in {BOOT_TIMEOUT} s")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclasses.dataclass(frozen=True)
class _Run:
    """What one ``evp up`` run showed, from boot to its exit on SIGTERM."""

    data: Path
    state: dict[str, Any]
    platform: dict[str, Any]
    skus: set[str]
    pids: list[int]
    code: int
    output: str
    token: str
    signing_keys: list[bytes]


async def _signing_keys(url: str) -> list[bytes]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT private_key FROM users_signing_keys")
    finally:
        await connection.close()
    return [bytes(row["private_key"]) for row in rows]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> _Run:
    """Boot with two inventory instances, use it, SIGTERM it; what it showed."""
    tmp_path = tmp_path_factory.mktemp("up")
    state_path = tmp_path / "platform.json"
    log = (tmp_path / "evp-up.out").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "evp", "up", "--json", str(state_path), "--replicas",
         "inventory=2", "--console-port", "0", "--topic-prefix", f"up-{uuid.uuid4().hex[:6]}.",
         "--grace", "20"],
        cwd=ROOT, env=embedded_environment(tmp_path / "data"), stdout=log, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        state = _wait_for_services(state_path, process)
        # Seeding comes after the services are listed; the catalogue is there once seeded.
        # Idle connections dropped before uvicorn's 5 s keep-alive ends: otherwise a request
        # sent as the server closes one fails with "Server disconnected" on a slow machine.
        with httpx.Client(timeout=10, limits=httpx.Limits(keepalive_expiry=2.0)) as client:
            for service in SERVICES:
                ready = client.get(f"{state['services'][service]}/health/ready")
                assert ready.status_code == 200, (service, ready.text)
            token = client.post(f"{state['services']['users']}/auth/token", json=state["admin"])
            assert token.status_code == 200, token.text
            skus: set[str] = set()
            deadline = time.monotonic() + 30
            while len(skus) < len(CATALOGUE) and time.monotonic() < deadline:
                page = client.get(f"{state['services']['inventory']}/products?limit=100")
                skus = {item["sku"] for item in page.json()["items"]}
                time.sleep(0.2)
            # The console comes last, once the catalogue is seeded.
            while not state["console"] and time.monotonic() < deadline:
                time.sleep(0.2)
                state = json.loads(state_path.read_text())
            platform = client.get(f"{state['console']}/api/platform").json()
        keys = asyncio.run(_signing_keys(state["databases"]["users"]))
        pids = [pid for group in state["pids"].values() for pid in group]
        process.send_signal(signal.SIGTERM)
        code = process.wait(60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
    return _Run(
        data=tmp_path / "data",
        state=state,
        platform=platform,
        skus=skus,
        pids=pids,
        code=code,
        output=(tmp_path / "evp-up.out").read_text(),
        token=token.json()["access_token"],
        signing_keys=keys,
    )


def test_the_platform_boots_serves_and_stops_on_sigterm(run: _Run) -> None:
    """Six services ready, admin logs in, catalogue seeded; SIGTERM ends every child, exit 0."""
    assert run.skus >= {product.sku for product in CATALOGUE}
    assert {"inventory", "inventory.2"} <= {p["name"] for p in run.platform["processes"]}
    assert all(run.state[key] for key in ("kafka", "registry", "smtp"))
    assert {"broker", "registry", "smtp"} <= set(run.state["pids"])
    assert run.code == 0, run.output[-3000:]
    assert [pid for pid in run.pids if _alive(pid)] == []
    assert not (run.data / "postgres" / "postmaster.pid").exists()
    assert "evp up: stopped" in run.output


def test_nothing_printed_or_logged_holds_a_secret(run: _Run) -> None:
    """The admin password, the signing keys and tokens appear in no output or log: the
    password is only in the state file, readable by its owner."""
    logs = {path: path.read_text(errors="replace") for path in run.data.rglob("*.log")}
    texts = {Path("evp-up.out"): run.output, **logs}
    assert len(logs) >= len(SERVICES)
    secrets = [run.state["admin"]["password"], run.token, run.token.split(".")[2]]
    for pem in run.signing_keys:
        body = pem.decode().replace("-----BEGIN PRIVATE KEY-----", "")
        secrets += [line for line in body.replace("-----END PRIVATE KEY-----", "").split() if line]
    assert run.signing_keys
    leaks = [(str(path), secret[:12]) for path, text in texts.items() for secret in secrets
             if secret in text]  # fmt: skip
    assert leaks == []
