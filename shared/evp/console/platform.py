"""What the console is told about the platform it shows: where each part is, and its processes.

The console does not import :mod:`evp.up` (``evp up`` serves the console, not the other way
round): ``evp up`` hands it a :class:`Platform` and a :class:`ProcessSource` that reads its
supervisor. Tests hand it their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from evp.credentials import BasicCredentials

__all__ = ["SHOP_SERVICES", "Platform", "ProcessInfo", "ProcessSource"]

SHOP_SERVICES = ("users", "orders", "inventory", "payments", "notifications", "analytics")
"""The services the console's pages talk to, in the order the overview lists them."""


@dataclass(frozen=True)
class ProcessInfo:
    """One supervised process as the overview shows it."""

    name: str
    """The instance's name (``inventory.2``)."""
    group: str
    """What it is an instance of (``inventory``, ``registry``, ``broker``)."""
    pid: int | None
    """``None`` while it is down (between a crash and its restart)."""
    address: str | None
    restarts: int
    log: Path | None = None


class ProcessSource(Protocol):
    """Gives the platform's processes as they are now."""

    def processes(self) -> Sequence[ProcessInfo]:
        """Every supervised process, in start order."""
        ...


@dataclass(frozen=True)
class Platform:
    """Where the platform's parts are, as ``evp up --json`` describes them."""

    services: Mapping[str, str]
    """Service name to its URL (the first instance's)."""
    registry: str
    kafka: str
    topic_prefix: str = ""
    smtp: str | None = None
    admin_email: str = ""
    admin_password: str = field(default="", repr=False)
    schemas: Path = Path("schemas")
    maildir: Path | None = None
    """The mail sink's Maildir, when the platform runs its own sink."""
    registry_credentials: BasicCredentials | None = field(default=None, repr=False)
    databases: Mapping[str, str] = field(default_factory=dict)
    """Service name to its database URL, password masked."""
