"""One Kafka message to a handled event, a skip, or a dead letter: never a crash.

Per message: read the schema id from the frame header -> the cached plan for that id (which
handler, if any, and whether its class can read the writer) -> decode -> call the handler,
retrying with backoff -> on failure, a dead letter confirmed by Kafka. A plan is made once
per writer schema id, off the event loop when the registry must be asked; the ids come from
untrusted bytes, so the plans kept are bounded and concurrent askers of one id share one
registry call. Only transient trouble (the registry unreachable, a dead letter not
confirmed, a handler's database or registry away) is retried without end; it gives the
message up only when the consumer stops, leaving it uncommitted for redelivery.

A handler attempt has a deadline (the route's ``timeout``). Wrapping each call in
``asyncio.timeout`` would cost a timer per message (about 4 us, a sixth of the consume
path), so the subscriber's watchdog cancels attempts past their deadline instead, and the
attempt's :class:`Slot` tells a timeout from a shutdown.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from confluent_kafka import Message

from evp.avro import AvroCodec, DecodeError, IncompatibleWriter, UnknownSchemaId
from evp.avro.errors import WireFormatError
from evp.avro.record import Event
from evp.avro.schema import full_name_of
from evp.avro.wire import read_header
from evp.errors import EvpError
from evp.messaging.context import enter_handling, exit_handling
from evp.messaging.dead_letter import DeadLettered, Reason, dead_letter_of, truncated
from evp.messaging.errors import (
    TOO_LARGE_CODES,
    BrokerError,
    DeliveryFailed,
    DependencyUnavailable,
    HandlerTimedOut,
    RegistryUnavailable,
)
from evp.messaging.message import MessageContext, position
from evp.messaging.producer import AsyncProducer
from evp.messaging.subscription import Route, Subscription
from evp.messaging.verdicts import ReadVerdicts
from evp.metrics import ServiceMetrics

__all__ = ["Abandoned", "Backoff", "MessageProcessor", "Slot"]

_log = logging.getLogger("evp.messaging.consumer")

# An unknown schema id may become known (a registry restored from backup), so that verdict
# is kept only this long; every other plan holds for the consumer's life.
_UNKNOWN_ID_TTL_S = 30.0
# Plans kept per consumer group. A topic legitimately sees a handful of writer ids; the
# bound only stops a stream of made-up ids from growing memory without end.
_MAX_PLANS = 1024


class Abandoned(Exception):
    """The consumer is stopping; the message was neither handled nor dead-lettered."""


class Slot:
    """One worker's view for the watchdog: the deadline of the handler attempt it runs."""

    __slots__ = ("deadline", "task", "timed_out")

    def __init__(self) -> None:
        self.deadline = 0.0
        """``time.monotonic()`` past which the running attempt is cut off; 0: none runs."""
        self.timed_out = False
        """Set by the watchdog just before it cancels the attempt."""
        self.task: asyncio.Task[None] | None = None

    def expire(self, now: float) -> bool:
        """Cancel the running attempt if it is past its deadline; whether it was."""
        if self.deadline and now > self.deadline and self.task is not None:
            self.timed_out = True
            self.task.cancel()
            return True
        return False


@dataclass(frozen=True)
class Backoff:
    """Exponential delays: ``first`` seconds, doubling, at most ``limit``."""

    first: float
    limit: float

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return float(min(self.limit, self.first * 2 ** (attempt - 1)))


class _Plan:
    """How to treat messages written with one schema id."""

    __slots__ = ("expires", "reason", "refusal", "route")

    def __init__(
        self,
        route: Route | None,
        *,
        reason: Reason | None = None,
        refusal: Exception | None = None,
        expires: float | None = None,
    ) -> None:
        self.route = route
        self.reason = reason
        self.refusal = refusal
        self.expires = expires


class MessageProcessor:
    """Processes the messages of one consumer group."""

    def __init__(
        self,
        subscription: Subscription,
        *,
        codec: AvroCodec,
        verdicts: ReadVerdicts,
        producer: AsyncProducer,
        backoff: Backoff,
        stopping: Callable[[], bool],
        observers: Sequence[Callable[[DeadLettered], None]] = (),
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self._subscription = subscription
        self._group = subscription.group
        self._codec = codec
        self._verdicts = verdicts
        self._producer = producer
        self._backoff = backoff
        self._stopping = stopping
        self._observers = observers
        self._metrics = metrics
        self._plans: collections.OrderedDict[int, _Plan] = collections.OrderedDict()
        self._planning: dict[int, asyncio.Future[_Plan]] = {}
        self.timeouts = 0
        """Handler attempts cut off at their deadline."""

    @property
    def cached_plans(self) -> int:
        """How many writer schema ids the processor holds a plan for."""
        return len(self._plans)

    @property
    def shortest_timeout(self) -> float:
        """The shortest handler timeout of the group's routes (seconds)."""
        return min((route.timeout for route in self._subscription.routes.values()), default=30.0)

    async def process(self, message: Message, slot: Slot) -> None:
        """Handle, skip or dead-letter ``message``; raises :class:`Abandoned` when stopping.

        ``slot`` is the calling worker's: handler attempts set its deadline there.
        """
        value = message.value() or b""
        try:
            schema_id = read_header(value)
        except WireFormatError as error:
            await self._dead_letter(message, Reason.WIRE_FORMAT, error, 0)
            return
        plan = self._plans.get(schema_id)
        if plan is None or (plan.expires is not None and plan.expires < time.monotonic()):
            plan = await self._plan(schema_id)
        route = plan.route
        if route is None:
            if plan.reason is not None and plan.refusal is not None:
                await self._dead_letter(message, plan.reason, plan.refusal, 0)
            return
        try:
            event = self._codec.decode(value, route.reader)
        except IncompatibleWriter as error:
            await self._dead_letter(message, Reason.INCOMPATIBLE_WRITER, error, 0)
            return
        except DecodeError as error:
            await self._dead_letter(message, Reason.UNDECODABLE, error, 0)
            return
        # The first attempt runs here rather than in _retry: one coroutine fewer per message.
        token = enter_handling(event)
        slot.deadline = time.monotonic() + route.timeout
        failure: Exception
        try:
            await route.handler(
                event, MessageContext(message, group=self._group, schema_id=schema_id, attempt=1)
            )
            return
        except asyncio.CancelledError as cancel:
            failure = self._timed_out(slot, route, cancel)
        except Exception as error:
            failure = error
        finally:
            slot.deadline = 0.0
            exit_handling(token)
        await self._retry(message, event, route, schema_id, failure, slot=slot)

    def _timed_out(
        self, slot: Slot, route: Route, cancel: asyncio.CancelledError
    ) -> HandlerTimedOut:
        """The failure of an attempt the watchdog cut off; re-raises any other cancellation."""
        if not slot.timed_out:
            raise cancel  # the consumer is stopping: not the handler's failure
        slot.timed_out = False
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        self.timeouts += 1
        if self._metrics is not None:
            self._metrics.handler_timed_out(self._group)
        return HandlerTimedOut(route.name, timeout=route.timeout, group=self._group)

    async def _retry(
        self,
        message: Message,
        event: Event,
        route: Route,
        schema_id: int,
        failure: Exception,
        *,
        slot: Slot,
    ) -> None:
        """After attempt 1 failed with ``failure``: retry with backoff, then dead-letter.

        An attempt that failed because a dependency is away (:class:`DependencyUnavailable`)
        does not count: it is repeated once the backoff has passed, for as long as it
        takes, and the message is never dead-lettered for it.
        """
        attempt = 1
        waits = 0
        while True:
            if isinstance(failure, DependencyUnavailable):
                waits += 1
                await self._wait_out(failure, waits)  # raises Abandoned when stopping
            else:
                waits = 0
                if attempt > route.retries:
                    _log.error(
                        "%s failed %d time(s) on %s at %s[%d]@%d; dead-lettering it",
                        route.name,
                        attempt,
                        event.FULL_NAME,
                        *position(message),
                        exc_info=failure,
                    )
                    await self._dead_letter(message, Reason.HANDLER_FAILED, failure, attempt)
                    return
                _log.warning(
                    "%s failed on %s (attempt %d of %d): %s",
                    route.name,
                    event.FULL_NAME,
                    attempt,
                    route.retries + 1,
                    failure,
                )
                if self._stopping():
                    # Neither handled nor dead-lettered: left uncommitted, for redelivery.
                    raise Abandoned(f"stopping before retry {attempt} of {route.name}")
                await asyncio.sleep(self._backoff.delay(attempt))
                attempt += 1
            token = enter_handling(event)
            slot.deadline = time.monotonic() + route.timeout
            try:
                await route.handler(
                    event,
                    MessageContext(
                        message, group=self._group, schema_id=schema_id, attempt=attempt
                    ),
                )
                return
            except asyncio.CancelledError as cancel:
                failure = self._timed_out(slot, route, cancel)
            except Exception as error:
                failure = error
            finally:
                slot.deadline = 0.0
                exit_handling(token)

    async def _plan(self, schema_id: int) -> _Plan:
        pending = self._planning.get(schema_id)
        if pending is not None:
            # Another partition is asking the registry about this id already: one call.
            return await asyncio.shield(pending)
        future: asyncio.Future[_Plan] = asyncio.get_running_loop().create_future()
        self._planning[schema_id] = future
        try:
            plan = await self._ask(schema_id)
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: waiters may all be gone
            raise
        finally:
            del self._planning[schema_id]
        future.set_result(plan)
        plans = self._plans
        plans[schema_id] = plan
        plans.move_to_end(schema_id)
        if len(plans) > _MAX_PLANS:
            plans.popitem(last=False)
        return plan

    async def _ask(self, schema_id: int) -> _Plan:
        attempt = 1
        while True:
            try:
                return await asyncio.get_running_loop().run_in_executor(
                    None, self._make_plan, schema_id
                )
            except RegistryUnavailable as error:
                # Not the message's fault: wait for the registry rather than dead-letter.
                await self._wait_out(error, attempt)
                attempt += 1

    def _make_plan(self, schema_id: int) -> _Plan:
        """Blocking: the writer schema from the registry, and the reader's verdict on it."""
        try:
            writer = self._codec.writer_text(schema_id)
        except UnknownSchemaId as error:
            return _Plan(
                None,
                reason=Reason.UNKNOWN_SCHEMA_ID,
                refusal=error,
                expires=time.monotonic() + _UNKNOWN_ID_TTL_S,
            )
        try:
            name = full_name_of(writer)
        except ValueError as error:
            return _Plan(None, reason=Reason.UNDECODABLE, refusal=error)
        route = self._subscription.routes.get(name)
        if route is None:
            return _Plan(None)
        try:
            problems = self._verdicts.problems(schema_id, writer, route.reader)
        except EvpError as error:
            return _Plan(None, reason=Reason.UNDECODABLE, refusal=error)
        if problems:
            refusal = IncompatibleWriter(
                reader=route.reader.FULL_NAME, writer=name, schema_id=schema_id, problems=problems
            )
            return _Plan(None, reason=Reason.INCOMPATIBLE_WRITER, refusal=refusal)
        # Resolve the read plan here, off the loop: decoding must never ask the registry.
        self._codec.prepare_read(schema_id, route.reader)
        return _Plan(route)

    async def _dead_letter(
        self, message: Message, reason: Reason, error: BaseException, attempts: int
    ) -> None:
        letter = dead_letter_of(
            message, reason=reason, error=error, group=self._group, attempts=attempts
        )
        _log.warning(
            "dead-lettering %s[%d]@%d to %s: %s: %s",
            *position(message),
            letter.topic,
            reason.value,
            error,
        )
        attempt = 1
        cut = False
        while True:
            try:
                (delivery,) = await self._producer.send([letter])
                break
            except (BrokerError, DeliveryFailed) as failure:
                if failure.code in TOO_LARGE_CODES and not cut:
                    # The letter can never be written whole: keep it, cut, rather than lose it.
                    letter, cut = truncated(letter, self._producer.max_message_bytes), True
                    _log.warning("dead letter too large (%s); sending it truncated", failure)
                    continue
                if isinstance(failure, BrokerError):
                    raise  # not transient: the subscriber leaves the message for redelivery
                await self._wait_out(failure, attempt)
                attempt += 1
        if self._metrics is not None:
            self._metrics.dead_lettered(self._group, reason.value)
        if self._observers:
            notice = DeadLettered(self._group, reason, error, *position(message), delivery)
            for observer in self._observers:
                try:
                    observer(notice)
                except Exception:
                    _log.exception("dead-letter observer %r failed", observer)

    async def _wait_out(self, trouble: Exception, attempt: int) -> None:
        if self._stopping():
            raise Abandoned(str(trouble)) from trouble
        delay = self._backoff.delay(attempt)
        _log.warning("%s; retrying in %.2f s", trouble, delay)
        await asyncio.sleep(delay)
