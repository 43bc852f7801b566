"""A small, pure saga engine: a typed definition, and (state, message, clock) -> outcome.

A :class:`Saga` is a sequence of :class:`Step` s. Each step is started by a command event
the saga emits (``started_by``), waits for replies (:class:`Reply`: a generated event class
and the transition it triggers), may have a :class:`Deadline` and names its compensation.
The engine knows nothing of Kafka or Postgres: :func:`decide` takes the saga's state (a
fold of its stream), one message (a reply event, a passed deadline, a cancel request) and
the time, and answers the events to append and how the step's deadline changes. The
handlers run it in a store transaction; the harness in :mod:`shop.orders.testing` runs it
with a controllable clock.

Which step runs is read from the stream alone: the last command of a step starts it, an
``ends_with`` event ends the saga. How a step ended is read from the envelope of the event
that ended it: caused by a reply of the step (its ``kind``), by the step's own command (its
deadline passed) or by nothing (a user's request).
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, Literal, Protocol, Self, TypeVar

from evp.avro import Event
from shop.orders.errors import NotCancellable

__all__ = [
    "CancelRequested",
    "Deadline",
    "DeadlineChange",
    "DeadlinePassed",
    "Message",
    "Outcome",
    "Reply",
    "Saga",
    "SagaData",
    "SagaState",
    "Step",
    "StepRun",
    "TimelineEntry",
    "decide",
    "replay",
]

E = TypeVar("E", bound=Event)
D = TypeVar("D", bound="SagaData")

ReplyKind = Literal["success", "failure", "late"]
"""``success``/``failure`` end the step that waits for the reply; ``late`` leaves it running."""


class SagaData(Protocol):
    """The saga's own data (ids, amounts), folded from its stream by the definition's author."""

    def evolve(self, event: Event) -> Self:
        """The data after ``event``."""
        ...


@dataclasses.dataclass(frozen=True)
class Reply(Generic[D, E]):
    """A reply a step waits for, and what the saga does when it comes: the commands to emit."""

    event: type[E]
    then: Callable[[D, E], Sequence[Event]]
    kind: ReplyKind = "success"


@dataclasses.dataclass(frozen=True)
class Deadline(Generic[D]):
    """How long a step may wait (a named timeout, given at run time) and what runs then."""

    timeout: str
    then: Callable[[D, Event], Sequence[Event]]
    """Called with the data and the step's command; the commands to emit."""


@dataclasses.dataclass(frozen=True)
class Step(Generic[D]):
    """One step: the command that starts it, the replies it waits for, deadline, compensation."""

    name: str
    started_by: type[Event]
    replies: Sequence[Reply[D, Any]]
    deadline: Deadline[D] | None = None
    compensation: type[Event] | None = None
    """The command that undoes the step once it succeeded (shown in the step's state)."""
    on_cancel: Callable[[D], Sequence[Event]] | None = None
    """What a cancel request does while the step runs; ``None``: not cancellable then."""

    def reply_for(self, event: Event) -> Reply[D, Any] | None:
        """The declared reply ``event`` is, if any."""
        return next((r for r in self.replies if isinstance(event, r.event)), None)


@dataclasses.dataclass(frozen=True)
class Saga(Generic[D]):
    """A saga: how it starts, its steps in order, how it ends, what it does after the end."""

    name: str
    starts_with: type[Event]
    start: Callable[[Any], D]
    """The saga's data from its first event (an instance of ``starts_with``)."""
    steps: Sequence[Step[D]]
    ends_with: Sequence[type[Event]]
    after_end: Sequence[Reply[D, Any]] = ()
    """Replies still acted on once the saga ended (a late payment is refunded)."""

    def step(self, name: str) -> Step[D]:
        """The step called ``name``."""
        return next(s for s in self.steps if s.name == name)

    def step_started_by(self, event: Event) -> Step[D] | None:
        """The step whose command ``event`` is, if any."""
        return next((s for s in self.steps if isinstance(event, s.started_by)), None)

    def replies(self) -> list[tuple[str, type[Event]]]:
        """Every (step, reply class) the saga waits for, ``after_end`` as step ``"ended"``."""
        pairs = [(s.name, r.event) for s in self.steps for r in s.replies]
        return pairs + [("ended", r.event) for r in self.after_end]


@dataclasses.dataclass(frozen=True)
class TimelineEntry:
    """One event of the saga's stream, and the step it started or answered, if any."""

    event: Event
    """Kept whole, not decoded: replay stays cheap and readers decode only what they show."""
    step: str | None
    """The step this event's command started, or the running step it is a declared reply
    of; ``None`` for the end, replies after it and events out of turn."""

    @property
    def event_type(self) -> str:
        """The event's class name, e.g. ``OrderPlaced``."""
        return type(self.event).__name__

    @property
    def at(self) -> datetime.datetime:
        """When the event happened."""
        return self.event.envelope.timestamp

    @property
    def source(self) -> str:
        """The service that sent it."""
        return self.event.envelope.source

    @property
    def event_id(self) -> uuid.UUID:
        """The event's id."""
        return self.event.envelope.event_id

    @property
    def causation_id(self) -> uuid.UUID | None:
        """The id of the event that caused it; ``None`` when a user's request did."""
        return self.event.envelope.causation_id

    @property
    def correlation_id(self) -> uuid.UUID:
        """The id of the flow it belongs to."""
        return self.event.envelope.correlation_id


@dataclasses.dataclass(frozen=True)
class StepRun:
    """One run of a step: when it started and ended, and how it went."""

    step: str
    command: Event
    started_at: datetime.datetime
    ended_at: datetime.datetime | None = None
    outcome: str | None = None
    """``succeeded``, ``failed``, ``timed_out``, ``cancelled``; ``None`` while it runs."""
    compensated: bool = False

    @property
    def state(self) -> str:
        """``running``, its outcome, or ``compensated`` once its compensation was emitted."""
        if self.compensated:
            return "compensated"
        return self.outcome or "running"


@dataclasses.dataclass(frozen=True)
class SagaState(Generic[D]):
    """Where one saga is: its data, running step, runs, and the events it has seen."""

    data: D
    version: int
    step: str | None
    runs: tuple[StepRun, ...]
    seen: Mapping[uuid.UUID, type[Event]]
    timeline: tuple[TimelineEntry, ...]
    ended_by: Event | None = None

    @property
    def ended(self) -> bool:
        """Whether the saga reached its terminal state."""
        return self.ended_by is not None

    @property
    def current(self) -> StepRun | None:
        """The run of the step that is running, if any."""
        return self.runs[-1] if self.step is not None and self.runs else None


@dataclasses.dataclass(frozen=True)
class DeadlinePassed:
    """The deadline of ``step`` passed (fed by the deadline poller or the harness's clock)."""

    step: str


@dataclasses.dataclass(frozen=True)
class CancelRequested:
    """The customer asked to cancel."""


Message = Event | DeadlinePassed | CancelRequested


@dataclasses.dataclass(frozen=True)
class DeadlineChange:
    """The saga's one deadline after a decision: ``due_at`` of ``step``, or none (cleared)."""

    step: str | None
    due_at: datetime.datetime | None


@dataclasses.dataclass(frozen=True)
class Outcome(Generic[D]):
    """What a decision did: events to append (the reply first), the new state, the deadline."""

    events: Sequence[Event]
    state: SagaState[D]
    deadline: DeadlineChange | None = None
    """``None``: the deadline stays as it is."""
    ignored: bool = False
    """The message changed nothing the saga acts on (a duplicate, a stale deadline)."""


def replay(saga: Saga[D], events: Sequence[Event]) -> SagaState[D] | None:
    """The state the saga's stream adds up to; ``None`` for a stream it did not start."""
    if not events or not isinstance(events[0], saga.starts_with):
        return None
    first = events[0]
    state = SagaState(saga.start(first), 0, None, (), {}, ())
    for event in events:
        state = evolve(saga, state, event)
    return state


def evolve(saga: Saga[D], state: SagaState[D], event: Event) -> SagaState[D]:
    """The state after one event of the stream."""
    envelope = event.envelope
    at = envelope.timestamp
    runs = list(state.runs)
    step, ended_by = state.step, state.ended_by
    started = saga.step_started_by(event) if ended_by is None else None
    entry = TimelineEntry(event, _step_of(saga, state, started, event))
    if started is not None or (ended_by is None and type(event) in saga.ends_with):
        if step is not None:
            runs[-1] = _closed(saga, state, runs[-1], event)
        if started is not None:
            step = started.name
            runs.append(StepRun(started.name, event, at))
        else:
            step, ended_by = None, event
    for index in range(len(runs) - 1, -1, -1):
        compensation = saga.step(runs[index].step).compensation
        if compensation is not None and isinstance(event, compensation):
            runs[index] = dataclasses.replace(runs[index], compensated=True)
            break
    return SagaState(
        state.data.evolve(event),
        state.version + 1,
        step,
        tuple(runs),
        {**state.seen, envelope.event_id: type(event)},
        (*state.timeline, entry),
        ended_by,
    )


def _step_of(
    saga: Saga[D], state: SagaState[D], started: Step[D] | None, event: Event
) -> str | None:
    """The step ``event`` started, or the one running before it that declares it a reply."""
    if started is not None:
        return started.name
    if state.step is None:
        return None
    return state.step if saga.step(state.step).reply_for(event) is not None else None


def _closed(saga: Saga[D], state: SagaState[D], run: StepRun, by: Event) -> StepRun:
    cause = by.envelope.causation_id
    if cause is None:
        outcome = "cancelled"  # nothing caused it but a user's request
    elif cause == run.command.envelope.event_id:
        outcome = "timed_out"  # the step's own command caused it: its deadline passed
    else:
        reply_type = state.seen.get(cause)
        declared = [r for r in saga.step(run.step).replies if reply_type is r.event]
        kind = declared[0].kind if declared else "success"
        outcome = "failed" if kind == "failure" else "succeeded"
    return dataclasses.replace(run, ended_at=by.envelope.timestamp, outcome=outcome)


def decide(
    saga: Saga[D],
    state: SagaState[D],
    message: Message,
    *,
    now: datetime.datetime,
    timeouts: Mapping[str, datetime.timedelta],
) -> Outcome[D]:
    """What the saga does with ``message`` at ``now``; raises :class:`NotCancellable`."""
    step = saga.step(state.step) if state.step is not None else None
    commands: Sequence[Event]
    match message:
        case DeadlinePassed(step=name):
            run = state.current
            if step is None or step.name != name or step.deadline is None or run is None:
                return Outcome((), state, DeadlineChange(None, None), ignored=True)
            emitted = list(step.deadline.then(state.data, run.command))
        case CancelRequested():
            if step is None or step.on_cancel is None:
                raise NotCancellable(saga.name, step.name if step else None)
            emitted = list(step.on_cancel(state.data))
        case _:
            if message.envelope.event_id in state.seen:
                return Outcome((), state, ignored=True)
            replies = saga.after_end if step is None else step.replies
            reply = next((r for r in replies if isinstance(message, r.event)), None)
            commands = reply.then(state.data, message) if reply is not None else ()
            emitted = [message, *commands]
    new = state
    for event in emitted:
        new = evolve(saga, new, event)
    ignored = isinstance(message, Event) and len(emitted) == 1
    return Outcome(emitted, new, _deadline(saga, state, new, now, timeouts), ignored=ignored)


def _deadline(
    saga: Saga[D],
    old: SagaState[D],
    new: SagaState[D],
    now: datetime.datetime,
    timeouts: Mapping[str, datetime.timedelta],
) -> DeadlineChange | None:
    before, after = old.current, new.current
    if _id(before) == _id(after):
        return None
    if after is None or new.step is None:
        return DeadlineChange(None, None)
    deadline = saga.step(new.step).deadline
    if deadline is None:
        return DeadlineChange(None, None)
    return DeadlineChange(after.step, now + timeouts[deadline.timeout])


def _id(run: StepRun | None) -> uuid.UUID | None:
    return run.command.envelope.event_id if run is not None else None
