"""The orders service's errors: one root, each carrying what it is about."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from evp.errors import EvpError
from evp.schema.resolution import Problem

__all__ = ["KeyReused", "NotCancellable", "OrdersError", "UnreadableReply"]


class OrdersError(EvpError):
    """Root of the orders service's own errors."""


class KeyReused(OrdersError):
    """An idempotency key came back with a different request than the one it placed."""

    def __init__(self, key: str, order_id: uuid.UUID) -> None:
        super().__init__(
            "this Idempotency-Key was used for a different request", key=key, order_id=order_id
        )
        self.key = key
        self.order_id = order_id


class NotCancellable(OrdersError):
    """A cancel request reached a saga whose running step cannot be cancelled (or none runs)."""

    def __init__(self, saga: str, step: str | None) -> None:
        where = f"while step {step} runs" if step else "once it ended"
        super().__init__(f"the {saga} saga cannot be cancelled {where}", saga=saga, step=step)
        self.saga = saga
        self.step = step


class UnreadableReply(OrdersError):
    """A reply class a saga step waits for cannot read its subject's latest registered schema."""

    def __init__(
        self, step: str, event: str, subject: str, problems: Sequence[Problem], *, why: str = ""
    ) -> None:
        details = why or "; ".join(f"{p.type.value} at {p.path}: {p.info}" for p in problems)
        super().__init__(
            f"step {step} waits for {event}, which cannot read the latest schema of"
            f" {subject}: {details}",
            step=step,
            event=event,
            subject=subject,
        )
        self.step = step
        self.event = event
        self.subject = subject
        self.problems = tuple(problems)
