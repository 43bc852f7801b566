"""What a service says about a saga it orchestrates, for its AsyncAPI document.

The kit runs no saga: a service that orchestrates one describes it with these values
(:meth:`Service.documents_saga <evp.service.Service.documents_saga>`), converted from its
own saga declaration, so the document and the event catalogue can show which command
starts each step, which replies it waits for and what compensates it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from evp.avro import Event

__all__ = ["SagaDoc", "SagaReplyDoc", "SagaStepDoc"]


@dataclasses.dataclass(frozen=True)
class SagaReplyDoc:
    """An event a saga waits for, and what kind of outcome it is (success, failure, late)."""

    event: type[Event]
    outcome: str = "success"


@dataclasses.dataclass(frozen=True)
class SagaStepDoc:
    """One step: the command that starts it, the replies that end it, what undoes it."""

    name: str
    started_by: type[Event]
    waits_for: Sequence[SagaReplyDoc] = ()
    compensation: type[Event] | None = None
    """The command that undoes the step once it succeeded, if any."""
    deadline: str | None = None
    """The name of the timeout after which the step gives up waiting, if it has one."""


@dataclasses.dataclass(frozen=True)
class SagaDoc:
    """A saga: the event that starts it, its steps in order, the events that end it."""

    name: str
    starts_with: type[Event]
    steps: Sequence[SagaStepDoc]
    ends_with: Sequence[type[Event]] = ()
    after_end: Sequence[SagaReplyDoc] = ()
    """Replies still handled once the saga ended (a payment that arrives late, say)."""
    description: str = ""
