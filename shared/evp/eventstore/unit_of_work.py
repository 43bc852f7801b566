"""The transaction a handler runs in, so what it appends commits with its processed mark.

An idempotent claim (:mod:`evp.eventstore.idempotency`) opens a recorder transaction and
makes it current for the handler's block; :meth:`EventStore.append
<evp.eventstore.store.EventStore.append>` on the same recorder then joins it without the
handler passing it around. The scope is closed when the block ends, so a task the handler
started (which inherits the context) cannot append to a transaction that has finished.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from evp.eventstore.recorder import Transaction

__all__ = ["current_transaction", "joined"]

T = TypeVar("T", bound=Transaction)


class _Scope:
    __slots__ = ("open", "recorder", "transaction")

    def __init__(self, recorder: object, transaction: Transaction) -> None:
        self.recorder = recorder
        self.transaction = transaction
        self.open = True


_current: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar(
    "evp_current_transaction", default=None
)


@contextmanager
def joined(recorder: object, transaction: T) -> Iterator[T]:
    """Make ``transaction`` (of ``recorder``) current for the ``with`` block."""
    scope = _Scope(recorder, transaction)
    token = _current.set(scope)
    try:
        yield transaction
    finally:
        scope.open = False
        _current.reset(token)


def current_transaction(recorder: object) -> Transaction | None:
    """The open transaction of ``recorder`` current in this context, if any.

    Only a transaction of that very recorder counts: a handler appending to another
    service's store must not write into its own database's transaction.
    """
    scope = _current.get()
    if scope is None or not scope.open or scope.recorder is not recorder:
        return None
    return scope.transaction
