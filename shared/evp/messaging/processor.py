"""One Kafka message to a handled event, a skip, or a dead letter: never a crash.

Per message: read the schema id from the frame header -> the cached plan for that id (which
handler, if any, and whether its class can read the writer) -> decode -> call the handler,
retrying with backoff -> on failure, a dead letter confirmed by Kafka. A plan is made once
per writer schema id, off the event loop when the registry must be asked. Only transient
trouble (the registry unreachable, a dead letter not confirmed) is retried without end; it
gives the message up only when the consumer stops, leaving it uncommitted for redelivery.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from confluent_kafka import Message

from evp.avro import AvroCodec, DecodeError, IncompatibleWriter, SchemaLookup, UnknownSchemaId
from evp.avro.record import Event
from evp.avro.schema import full_name_of
from evp.avro.wire import HEADER_SIZE, MAGIC_BYTE, read_header
from evp.errors import EvpError
from evp.messaging.context import enter_handling, exit_handling
from evp.messaging.dead_letter import DeadLettered, Reason, dead_letter_of
from evp.messaging.errors import DeliveryFailed, RegistryUnavailable
from evp.messaging.message import MessageContext, position
from evp.messaging.producer import AsyncProducer
from evp.messaging.subscription import Route, Subscription
from evp.messaging.verdicts import ReadVerdicts

__all__ = ["Abandoned", "Backoff", "MessageProcessor"]

_log = logging.getLogger("evp.messaging.consumer")

# An unknown schema id may become known (a registry restored from backup), so that verdict
# is kept only this long; every other plan holds for the consumer's life.
_UNKNOWN_ID_TTL_S = 30.0


class Abandoned(Exception):
    """The consumer is stopping; the message was neither handled nor dead-lettered."""


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
        lookup: SchemaLookup,
        verdicts: ReadVerdicts,
        producer: AsyncProducer,
        backoff: Backoff,
        stopping: Callable[[], bool],
        observers: Sequence[Callable[[DeadLettered], None]] = (),
    ) -> None:
        self._subscription = subscription
        self._group = subscription.group
        self._codec = codec
        self._lookup = lookup
        self._verdicts = verdicts
        self._producer = producer
        self._backoff = backoff
        self._stopping = stopping
        self._observers = observers
        self._plans: dict[int, _Plan] = {}

    async def process(self, message: Message) -> None:
        """Handle, skip or dead-letter ``message``; raises :class:`Abandoned` when stopping."""
        value = message.value() or b""
        if len(value) < HEADER_SIZE or value[0] != MAGIC_BYTE:
            try:
                read_header(value)  # raises, saying what is wrong with the frame
            except EvpError as error:
                await self._dead_letter(message, Reason.WIRE_FORMAT, error, 0)
                return
        schema_id = int.from_bytes(value[1:HEADER_SIZE], "big")
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
        try:
            await route.handler(
                event, MessageContext(message, group=self._group, schema_id=schema_id, attempt=1)
            )
            return
        except Exception as error:
            failure = error
        finally:
            exit_handling(token)
        await self._retry(message, event, route, schema_id, failure)

    async def _retry(
        self, message: Message, event: Event, route: Route, schema_id: int, failure: Exception
    ) -> None:
        """After attempt 1 failed with ``failure``: retry with backoff, then dead-letter."""
        attempt = 1
        while True:
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
            try:
                await route.handler(
                    event,
                    MessageContext(
                        message, group=self._group, schema_id=schema_id, attempt=attempt
                    ),
                )
                return
            except Exception as error:
                failure = error
            finally:
                exit_handling(token)

    async def _plan(self, schema_id: int) -> _Plan:
        attempt = 1
        while True:
            try:
                plan = await asyncio.get_running_loop().run_in_executor(
                    None, self._make_plan, schema_id
                )
            except RegistryUnavailable as error:
                # Not the message's fault: wait for the registry rather than dead-letter.
                await self._wait_out(error, attempt)
                attempt += 1
                continue
            self._plans[schema_id] = plan
            return plan

    def _make_plan(self, schema_id: int) -> _Plan:
        """Blocking: the writer schema from the registry, and the reader's verdict on it."""
        try:
            writer = self._lookup.schema_by_id(schema_id)
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
                reader=route.reader.FULL_NAME, writer=name, schema_id=schema_id, reasons=problems
            )
            return _Plan(None, reason=Reason.INCOMPATIBLE_WRITER, refusal=refusal)
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
        while True:
            try:
                (delivery,) = await self._producer.send([letter])
                break
            except DeliveryFailed as failure:
                await self._wait_out(failure, attempt)
                attempt += 1
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
