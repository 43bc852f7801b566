"""``evp up`` end to end: the whole platform as processes, healthy, seeded, and stopped by SIGTERM.

One boot (about 10-20 s on two cores) with two inventory instances: the JSON description
lists every service, each answers ready, the admin logs in, inventory lists the seeded
catalogue, the console lists both inventory instances; then SIGTERM stops every child and
``evp up`` exits 0.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from evp.testing.up import up_environment
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


def test_the_platform_boots_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    """Six services ready, admin logs in, catalogue seeded; SIGTERM ends every child, exit 0."""
    state_path = tmp_path / "platform.json"
    log = (tmp_path / "evp-up.out").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "evp", "up", "--json", str(state_path), "--replicas",
         "inventory=2", "--console-port", "0", "--topic-prefix", f"up-{uuid.uuid4().hex[:6]}.",
         "--grace", "20"],
        cwd=ROOT, env=up_environment(tmp_path / "data"), stdout=log, stderr=subprocess.STDOUT,
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
        assert skus >= {product.sku for product in CATALOGUE}
        assert {"inventory", "inventory.2"} <= {p["name"] for p in platform["processes"]}
        assert all(state[key] for key in ("kafka", "registry", "smtp"))
        pids = [pid for group in state["pids"].values() for pid in group]
        assert {"broker", "registry", "smtp"} <= set(state["pids"])
        process.send_signal(signal.SIGTERM)
        code = process.wait(60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
    output = (tmp_path / "evp-up.out").read_text()
    assert code == 0, output[-3000:]
    assert [pid for pid in pids if _alive(pid)] == []
    assert not (tmp_path / "data" / "postgres" / "postmaster.pid").exists()
    assert "evp up: stopped" in output
