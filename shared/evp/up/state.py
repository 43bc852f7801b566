"""The machine-readable description of a running platform (``evp up --json FILE``).

Its shape::

    {"services": {"users": URL, ...}, "console": URL, "registry": URL,
     "kafka": BOOTSTRAP, "topic_prefix": STR, "smtp": "HOST:PORT",
     "admin": {"email": STR, "password": STR}, "pids": {NAME: [PID, ...]},
     "databases": {NAME: URL}}

``console`` is ``null`` when the console is off. ``databases`` (passwords
masked) lets ``evp doctor`` check the databases of a platform it did not start. The file
is rewritten whenever something in it changes (a restart's new pid), atomically: a
temporary file beside it, then a rename, so a reader never sees half of it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evp.credentials import mask_password

__all__ = ["PlatformState", "StateFile"]


@dataclass
class PlatformState:
    """Where each part of the running platform is."""

    topic_prefix: str = ""
    kafka: str | None = None
    registry: str | None = None
    smtp: str | None = None
    services: dict[str, str] = field(default_factory=dict)
    admin: dict[str, str] = field(default_factory=dict)
    pids: dict[str, list[int]] = field(default_factory=dict)
    databases: dict[str, str] = field(default_factory=dict)
    console: str | None = None
    """The console's URL; ``None`` when it is off."""

    def document(self) -> dict[str, Any]:
        """The JSON document."""
        return {
            "services": dict(self.services),
            "console": self.console,
            "registry": self.registry,
            "kafka": self.kafka,
            "topic_prefix": self.topic_prefix,
            "smtp": self.smtp,
            "admin": dict(self.admin),
            "pids": {name: list(pids) for name, pids in self.pids.items()},
            "databases": {name: mask_password(url) for name, url in self.databases.items()},
        }


class StateFile:
    """A JSON file rewritten atomically, only when its content changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._written: str | None = None

    def write(self, document: dict[str, Any]) -> bool:
        """Write ``document`` unless the file holds it already; whether it wrote."""
        text = json.dumps(document, indent=2, sort_keys=False) + "\n"
        if text == self._written:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        # The admin password is in it: readable by its owner only.
        temporary.chmod(0o600)
        os.replace(temporary, self.path)
        self._written = text
        return True
