"""Errors of the service kit: a declaration that cannot work, a part that would not start."""

from __future__ import annotations

from evp.errors import EvpError

__all__ = ["InvalidService", "ServiceKitError", "ServiceStartError", "UnknownService"]


class ServiceKitError(EvpError):
    """Root of every deliberate error raised by :mod:`evp.service`."""


class InvalidService(ServiceKitError):
    """A service declaration that cannot run (a bad name, a handler declared twice)."""

    def __init__(self, detail: str, *, service: str) -> None:
        super().__init__(detail, service=service)
        self.service = service


class ServiceStartError(ServiceKitError):
    """A part of a service did not start; ``step`` names which, the cause says why."""

    def __init__(self, step: str, cause: BaseException) -> None:
        super().__init__(f"could not start {step}: {cause}", step=step)
        self.step = step


class UnknownService(ServiceKitError):
    """``evp serve NAME`` names no installed service and no importable ``module:attribute``."""

    def __init__(self, name: str, *, known: list[str]) -> None:
        choices = ", ".join(known) or "none installed"
        super().__init__(f"no service {name!r} (known: {choices})", service=name)
        self.name = name
        self.known = known
