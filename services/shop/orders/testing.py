"""A harness that drives a saga definition with events and a clock the test controls.

::

    harness = SagaHarness(ORDER_SAGA, placed, timeouts={"payment_timeout": 30})
    harness.feed(StockHeld.new(...))
    harness.advance(31)                       # the payment deadline fires, no waiting
    assert harness.emitted_types() == ["StockReleaseRequested"]

It keeps what the service keeps (the stream, the one deadline) and runs the same pure engine
the handlers run, so a definition is tested without Kafka or Postgres; ``prepare``
completes the data folded from the stream with what the service keeps beside it (the
order's payment token).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Mapping, Sequence
from typing import Generic, TypeVar

from evp.avro import Event
from shop.orders.engine import (
    CancelRequested,
    DeadlinePassed,
    Message,
    Outcome,
    Saga,
    SagaData,
    SagaState,
    decide,
    replay,
)

__all__ = ["SagaHarness"]

D = TypeVar("D", bound=SagaData)

_START = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)


class SagaHarness(Generic[D]):
    """One saga instance driven by hand: feed replies, cancel, move the clock."""

    def __init__(
        self,
        saga: Saga[D],
        first: Event,
        *,
        timeouts: Mapping[str, float],
        now: datetime.datetime = _START,
        prepare: Callable[[D], D] | None = None,
    ) -> None:
        self.saga = saga
        self.now = now
        self.timeouts = {name: datetime.timedelta(seconds=s) for name, s in timeouts.items()}
        self.stream: list[Event] = [first]
        self._prepare = prepare
        self.state: SagaState[D] = self._replay()
        self.deadline: tuple[str, datetime.datetime] | None = None
        step = saga.step(self.state.step) if self.state.step else None
        if step is not None and step.deadline is not None:
            due = now + self.timeouts[step.deadline.timeout]
            self.deadline = (step.name, due)
        self._marker = len(self.stream)

    def feed(self, event: Event) -> Outcome[D]:
        """Deliver ``event`` to the saga, as the handler does."""
        return self._run(event)

    def cancel(self) -> Outcome[D]:
        """A customer's cancel request (raises :class:`~shop.orders.errors.NotCancellable`)."""
        return self._run(CancelRequested())

    def advance(self, seconds: float) -> list[Outcome[D]]:
        """Move the clock on; a deadline that falls due fires (once) on the way."""
        self.now += datetime.timedelta(seconds=seconds)
        fired = []
        while self.deadline is not None and self.deadline[1] <= self.now:
            step, _ = self.deadline
            self.deadline = None
            fired.append(self._run(DeadlinePassed(step)))
        return fired

    def emitted(self) -> list[Event]:
        """The events appended since the last call (the fed replies included)."""
        new, self._marker = self.stream[self._marker :], len(self.stream)
        return new

    def emitted_types(self) -> list[str]:
        """The names of :meth:`emitted` events."""
        return [type(event).__name__ for event in self.emitted()]

    def types(self) -> list[str]:
        """Every event of the stream, by name, oldest first."""
        return [type(event).__name__ for event in self.stream]

    def commands(self, kind: type[Event]) -> Sequence[Event]:
        """The events of type ``kind`` in the stream."""
        return [event for event in self.stream if isinstance(event, kind)]

    def _run(self, message: Message) -> Outcome[D]:
        outcome = decide(self.saga, self.state, message, now=self.now, timeouts=self.timeouts)
        self.stream.extend(outcome.events)
        self.state = outcome.state
        if outcome.deadline is not None:
            change = outcome.deadline
            self.deadline = (
                (change.step, change.due_at)
                if change.step is not None and change.due_at is not None
                else None
            )
        # The stream alone must give the same state (it is what the service reloads).
        assert self._replay() == self.state
        return outcome

    def _replay(self) -> SagaState[D]:
        state = replay(self.saga, self.stream)
        assert state is not None, f"{type(self.stream[0]).__name__} does not start the saga"
        if self._prepare is not None:
            state = dataclasses.replace(state, data=self._prepare(state.data))
        return state
