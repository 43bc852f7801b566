"""``evp chaos``, CI-sized: 40 orders under four faults, every invariant PASS, exit 0."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_small_chaos_run_holds_every_invariant(tmp_path: Path) -> None:
    """Registry, orders and notifications killed while orders arrive, then an inventory
    replica paused past the session timeout, one poison message: exit 0, every invariant
    listed PASS."""
    report = tmp_path / "chaos.json"
    # Seed 34 kills the registry, orders and notifications, then pauses inventory.2 (its
    # group rebalances to inventory); tests/chaos/test_schedule.py checks any seed's rules.
    argv = [sys.executable, "-m", "evp.cli.main", "chaos", "--orders", "40", "--rate", "2"]
    argv += ["--faults", "3", "--pause", "--pause-seconds", "35", "--replicas", "inventory=2"]
    argv += ["--poison", "1", "--seed", "34", "--bound", "90", "--json", str(report)]
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=420, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-3000:]
    doc = json.loads(report.read_text())
    verdicts = doc["invariants"]
    assert [v["name"] for v in verdicts if not v["passed"]] == []
    lines = [line for line in done.stdout.splitlines() if line.startswith(("  PASS", "  FAIL"))]
    assert len(lines) == len(verdicts) >= 15
    assert all(line.startswith("  PASS") for line in lines)
    faults = doc["faults"]
    assert {(f["process"], f["kind"]) for f in faults} == {
        ("notifications", "SIGKILL"),
        ("registry", "SIGKILL"),
        ("orders", "SIGKILL"),
        ("inventory.2", "SIGSTOP"),
    }
    assert all(f["back"] for f in faults)
    assert doc["orders"]["placed"] == 40
    assert "ALL INVARIANTS HOLD" in done.stdout
