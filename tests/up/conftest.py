"""Fixtures of the ``evp up`` tests: Kafka, the catalog registry, tiny child processes."""

from __future__ import annotations

import re
import sys

from evp.testing.kafka import catalog_registry, kafka_bootstrap_servers
from evp.up.child import ChildSpec

__all__ = ["catalog_registry", "kafka_bootstrap_servers", "sleeper"]

READY = re.compile(r"ready at (?P<address>\S+)")


def sleeper(name: str, *, group: str | None = None, seconds: float = 60, **kw: object) -> ChildSpec:
    """A child that says it is ready (at a made-up address) and sleeps."""
    code = (
        "import os, time; "
        f"print('ready at tiny://' + str(os.getpid()), flush=True); time.sleep({seconds})"
    )
    return ChildSpec(
        name=name,
        group=group or name,
        argv=(sys.executable, "-c", code),
        env={"PATH": "/usr/bin:/bin"},
        ready=READY,
        **kw,  # type: ignore[arg-type]
    )
