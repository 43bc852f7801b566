"""The ``--json`` description: its shape, atomic rewrites, and kept current across restarts."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

from evp.credentials import mask_password
from evp.up import Backoff, Plan, PlatformState, RunningPlatform, StateFile, Supervisor
from evp.up.seed import Admin
from tests.up.conftest import sleeper

KEYS = {
    "services", "console", "registry", "kafka", "topic_prefix", "smtp", "admin", "pids",
    "databases",
}  # fmt: skip


def test_the_document_has_the_promised_shape() -> None:
    """Every key, console null, admin email and password, pids as lists."""
    state = PlatformState(
        topic_prefix="dev.",
        kafka="127.0.0.1:9092",
        registry="http://127.0.0.1:8081",
        smtp="127.0.0.1:2525",
        services={"users": "http://127.0.0.1:1"},
        admin={"email": "admin@shop.local", "password": "pw"},
        pids={"users": [1, 2]},
        databases={"users": "postgresql://u:secret@db/users"},
    )
    document = state.document()
    assert set(document) == KEYS
    assert document["console"] is None
    assert document["admin"] == {"email": "admin@shop.local", "password": "pw"}
    assert document["pids"] == {"users": [1, 2]}
    assert document["databases"] == {"users": "postgresql://u:***@db/users"}
    json.dumps(document)


def test_a_state_file_is_replaced_whole_and_only_when_it_changes(tmp_path: Path) -> None:
    """Unchanged content is not rewritten; no temporary file is left beside it."""
    path = tmp_path / "up.json"
    state_file = StateFile(path)
    assert state_file.write({"pids": {"users": [1]}})
    assert not state_file.write({"pids": {"users": [1]}})
    assert state_file.write({"pids": {"users": [2]}})
    assert json.loads(path.read_text()) == {"pids": {"users": [2]}}
    assert [p.name for p in tmp_path.iterdir()] == ["up.json"]
    assert path.stat().st_mode & 0o077 == 0  # the admin password is in it


def test_passwords_are_masked_in_urls() -> None:
    """Only the password is replaced; URLs without one are kept as they are."""
    assert mask_password("postgresql://me:pw@host:5432/db") == "postgresql://me:***@host:5432/db"
    assert (
        mask_password("postgresql://postgres:@/db?host=/tmp")
        == "postgresql://postgres:@/db?host=/tmp"
    )


async def test_the_file_follows_a_restart(tmp_path: Path) -> None:
    """A crashed service's new pid reaches the file; its URL stays listed."""
    path = tmp_path / "state.json"
    holder: list[RunningPlatform] = []
    supervisor = Supervisor(
        report=lambda line: None,
        on_change=lambda: holder[0].refresh() if holder else None,
        backoff=Backoff(initial=0.05),
        grace=2,
    )
    plan = Plan.from_env({"EVP_DATA_DIR": str(tmp_path)})
    admin = Admin("admin@shop.local", "pw", "test")
    holder.append(RunningPlatform(plan, supervisor, [StateFile(path)], admin, None))
    try:
        await supervisor.start([sleeper("broker")])
        await supervisor.start([sleeper("orders"), sleeper("inventory.2", group="inventory")])
        before = json.loads(path.read_text())
        (pid,) = before["pids"]["orders"]
        assert before["services"]["orders"] == f"tiny://{pid}"
        assert len(before["pids"]["inventory"]) == 1
        os.kill(pid, signal.SIGKILL)
        async with asyncio.timeout(15):
            while (after := json.loads(path.read_text()))["pids"]["orders"] in ([], [pid]):
                await asyncio.sleep(0.02)
        assert after["pids"]["orders"] != [pid]
        assert after["services"]["orders"].startswith("tiny://")
    finally:
        await supervisor.stop()
    assert json.loads(path.read_text())["pids"] == {"broker": [], "orders": [], "inventory": []}
