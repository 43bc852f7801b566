"""Errors of ``evp up``: a bad flag or setting, a step of the boot that did not get healthy."""

from __future__ import annotations

from evp.errors import EvpError

__all__ = ["ChildFailed", "PlanError", "StepFailed", "Unreachable", "UpError"]


class UpError(EvpError):
    """Root of every deliberate error raised by :mod:`evp.up`."""


class PlanError(UpError):
    """A flag or variable ``evp up`` cannot plan with (``--replicas payment=2``, say)."""

    def __init__(self, detail: str, *, option: str) -> None:
        super().__init__(detail, option=option)
        self.option = option


class ChildFailed(UpError):
    """A child process exited, or did not get healthy in time; ``tail`` is its last output."""

    def __init__(self, name: str, reason: str, *, tail: tuple[str, ...] = ()) -> None:
        super().__init__(f"{name} {reason}", child=name)
        self.name = name
        self.reason = reason
        self.tail = tail

    def __str__(self) -> str:
        lines = [self.message, *(f"  | {line}" for line in self.tail)]
        return "\n".join(lines)


class StepFailed(UpError):
    """A step of the boot (Postgres, Kafka, the registry, ...) did not get healthy."""

    def __init__(self, step: str, reason: str, *, fix: str | None = None) -> None:
        super().__init__(f"{step}: {reason}" + (f"; {fix}" if fix else ""), step=step)
        self.step = step
        self.reason = reason
        self.fix = fix

    def __str__(self) -> str:
        return self.message  # the step leads the message already


class Unreachable(UpError):
    """A health probe failed: ``what`` at ``address`` did not answer as it should."""

    def __init__(self, what: str, address: str, reason: str) -> None:
        super().__init__(f"{what} is unreachable at {address}: {reason}", address=address)
        self.what = what
        self.address = address
        self.reason = reason

    def __str__(self) -> str:
        return self.message
