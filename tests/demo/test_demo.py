"""``make demo`` runs end to end: the narrated steps all happen and it exits 0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_demo_runs_every_step() -> None:
    """The demo exits 0, shows the saga chain, the strict refusal and a dead letter."""
    done = subprocess.run(
        [sys.executable, "-m", "evp.demo"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr[-3000:]
    assert "0 finding(s)" in out
    assert "0 stale" in out
    assert "decoded equals original: True" in out
    assert "shipping_address = None" in out
    assert out.count("caused by (a user request)") == 2
    assert "OrderConfirmed" in out
    assert "SchemaNotRegistered" in out
    assert "reason: wire-format" in out
    assert out.rstrip().endswith("Demo complete.")
