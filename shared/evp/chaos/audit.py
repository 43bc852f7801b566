"""What the services' own stores, their tables, the topics and the mail hold after the run.

Gathered once the platform is quiet, straight from each service's database (its event
store folded, its tables read) and from the topics, never through the services' APIs: the
:class:`Audit` is what :mod:`evp.chaos.invariants` checks. Part of it is the demo's
:class:`~evp.demo.invariants.Observation`, built from the stores instead of over HTTP, so
the demo's own checks run on it unchanged.
"""

from __future__ import annotations

import asyncio
import mailbox
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from evp.avro import AvroCodec, Event
from evp.chaos.databases import Databases, OutboxState
from evp.chaos.load import Placed
from evp.chaos.replay import ReadModel, compare_read_models
from evp.chaos.topics import TopicMessage, dead_letter_topics, read_topics
from evp.demo.invariants import TERMINAL, Observation, OrderSeen, PaymentSeen
from evp.events import (
    EVENT_TYPES,
    OrderCancelled,
    OrderPlaced,
    PaymentProcessed,
    StockAdded,
    StockHeld,
    StockReleased,
    StockReserved,
    UserRegistered,
)
from evp.messaging import MessagingSettings
from evp.messaging.dead_letter_queue import DeadLetterQueue
from evp.messaging.registry_lookup import RegistrySchemaLookup
from evp.service import Service

__all__ = ["POISON_KEY", "Audit", "Mail", "StockFold", "fold_stock", "gather"]

POISON_KEY = "chaos-poison-"
"""The start of the key of every message ``--poison`` injects (how its letters are told)."""

_ENDS = frozenset(TERMINAL.values())


@dataclass
class StockFold:
    """Inventory's store folded in position order: per SKU, units added, held, reserved."""

    added: Counter[str] = field(default_factory=Counter)
    held: Counter[str] = field(default_factory=Counter)
    reserved: Counter[str] = field(default_factory=Counter)
    lowest: dict[str, int] = field(default_factory=dict)
    """The fewest units available a SKU ever had (after each event)."""
    negatives: list[str] = field(default_factory=list)
    """Each moment a level went below zero: SKU, event, levels."""

    def available(self, sku: str) -> int:
        """Units neither held nor reserved now."""
        return self.added[sku] - self.held[sku] - self.reserved[sku]


def fold_stock(events: Iterable[Event]) -> StockFold:
    """Fold inventory's events (in store order) into stock levels, noting every negative one.

    A release gives back what the order's hold had become: held units, or reserved ones
    once the order paid.
    """
    fold = StockFold()
    reserved_orders: set[Any] = set()
    for event in events:
        touched: list[str] = []
        match event:
            case StockAdded():
                fold.added[event.sku] += event.quantity
                touched.append(event.sku)
            case StockHeld():
                for line in event.lines:
                    fold.held[line.sku] += line.quantity
                    touched.append(line.sku)
            case StockReserved():
                reserved_orders.add(event.order_id)
                for line in event.lines:
                    fold.held[line.sku] -= line.quantity
                    fold.reserved[line.sku] += line.quantity
                    touched.append(line.sku)
            case StockReleased():
                level = fold.reserved if event.order_id in reserved_orders else fold.held
                reserved_orders.discard(event.order_id)
                for line in event.lines:
                    level[line.sku] -= line.quantity
                    touched.append(line.sku)
        for sku in touched:
            available = fold.available(sku)
            fold.lowest[sku] = min(fold.lowest.get(sku, available), available)
            if min(available, fold.held[sku], fold.reserved[sku]) < 0:
                fold.negatives.append(
                    f"{sku} after {type(event).__name__} of {getattr(event, 'order_id', '-')}: "
                    f"available {available}, held {fold.held[sku]}, "
                    f"reserved {fold.reserved[sku]}"
                )
    return fold


@dataclass(frozen=True)
class Mail:
    """A message the mail sink kept."""

    to: str
    subject: str
    message_id: str


@dataclass
class Audit:
    """Everything the chaos invariants are checked on."""

    observation: Observation
    """The demo's observation, from the stores: orders, stock, payments, mail (one per
    Message-ID), customers, dead letters other than the injected ones."""
    placed: list[Placed]
    latencies: dict[str, float]
    """Per order ended: seconds from its OrderPlaced to its first terminal event."""
    bound_s: float
    stock_fold: StockFold
    stock_table: dict[str, tuple[int, int, int]]
    """Inventory's ``products``: per SKU, ``(added, held, reserved)``."""
    payment_events: dict[str, Counter[str]]
    """Per order, the events of its payment stream by type."""
    topic_charges: dict[str, set[str]]
    """Per order (the message key), the ids of the PaymentProcessed events on the topic."""
    users: list[str]
    """Every user registered (UserRegistered in users' store), by id."""
    notifications: list[tuple[str, str, str]]
    """Notifications' ledger: ``(template, about, status)`` per row."""
    mail: list[Mail]
    read_models: list[ReadModel]
    topic_ids: Counter[str]
    """Event ids on the topics (dead-letter topics aside), with how often each was sent."""
    analytics_ids: set[str]
    unpublished: dict[str, list[str]]
    """Per service, events it stored for publication that no topic holds."""
    outboxes: dict[str, OutboxState]
    projection_lags: dict[str, int]
    """Per store-fed read model (``service/projection``), positions it is behind its store."""
    letters: dict[str, list[str]]
    """Per dead-letter topic, the key of each letter."""
    poisoned: int
    """Messages ``--poison`` injected."""


async def gather(
    databases: Databases,
    services: Mapping[str, Service],
    placed: Sequence[Placed],
    *,
    customers: Sequence[str],
    kafka: str,
    registry: str,
    prefix: str,
    maildir: Path,
    bound_s: float,
    poisoned: int = 0,
) -> Audit:
    """Read it all; the read models last, as their rebuild writes (what it must not change)."""
    kinds = {p.order_id: str(p.arrival.order.kind) for p in placed if p.order_id}
    async with databases.store("orders") as store:
        orders_events = [(r.stream_id, r.event) for r in await store.read_all(0)]
    seen, latencies = _orders(orders_events, kinds)
    stored = {order.order_id for order in seen}
    async with databases.store("inventory") as store:
        fold = fold_stock(r.event for r in await store.read_all(0))
    async with databases.store("payments") as store:
        payment_events: dict[str, Counter[str]] = {}
        for recorded in await store.read_all(0):
            order_id = str(getattr(recorded.event, "order_id", recorded.stream_id))
            payment_events.setdefault(order_id, Counter())[type(recorded.event).__name__] += 1
    async with databases.store("users") as store:
        users = [
            str(r.event.user_id)
            for r in await store.read_all(0, event_types=[UserRegistered.FULL_NAME])
            if isinstance(r.event, UserRegistered)
        ]
    messages = await asyncio.to_thread(read_topics, kafka, prefix)
    letters = await asyncio.to_thread(_letters, kafka, prefix)
    mail = _mail(maildir)
    products = await _products(databases)
    unique = {m.message_id: m for m in mail}
    observation = Observation(
        orders=seen + [_unseen(p) for p in placed if p.order_id and p.order_id not in stored],
        stock_added=dict(fold.added),
        available={
            sku: added - held - reserved for sku, (added, held, reserved) in products.items()
        },
        payments=await _ledger(databases),
        emails=[(m.to, m.subject) for m in unique.values()],
        customers=list(customers),
        dead_letters={
            topic: sum(1 for key in keys if not key.startswith(POISON_KEY))
            for topic, keys in letters.items()
        },
        charge_events=len(
            {m.event_id for m in messages if m.short_type == PaymentProcessed.__name__}
        ),
    )
    decoded = await asyncio.to_thread(_decode, messages, registry, _kafka_fed_types(services))
    return Audit(
        observation=observation,
        placed=list(placed),
        latencies=latencies,
        bound_s=bound_s,
        stock_fold=fold,
        stock_table=products,
        payment_events=payment_events,
        topic_charges=_charges(messages),
        users=users,
        notifications=[
            (str(row[0]), str(row[1]), str(row[2]))
            for row in await databases.fetch(
                "notifications", "SELECT template, about, status FROM notifications"
            )
        ],
        mail=mail,
        topic_ids=Counter(m.event_id for m in messages if m.event_id),
        analytics_ids={
            str(row[0])
            for row in await databases.fetch("analytics", "SELECT event_id FROM evp_events")
        },
        unpublished=await _unpublished(databases, services, messages),
        outboxes={name: await databases.outbox(name) for name in services},
        projection_lags=await _projection_lags(databases, services),
        letters=letters,
        poisoned=poisoned,
        read_models=await compare_read_models(databases, services, decoded),
    )


def _orders(
    recorded: Iterable[tuple[str, Event]], kinds: Mapping[str, str]
) -> tuple[list[OrderSeen], dict[str, float]]:
    """Each order's stream as the demo's :class:`OrderSeen`, and how long it took to end."""
    streams: dict[str, list[Event]] = {}
    for stream_id, event in recorded:
        if stream_id.startswith("order-"):
            streams.setdefault(stream_id.removeprefix("order-"), []).append(event)
    seen, latencies = [], {}
    for order_id, events in streams.items():
        placed = next((e for e in events if isinstance(e, OrderPlaced)), None)
        ends = [e for e in events if type(e).__name__ in _ENDS]
        first = ends[0] if ends else None
        status = None if first is None else _status(first)
        lines: Counter[str] = Counter()
        for line in placed.lines if placed else []:
            lines[line.sku] += line.quantity
        seen.append(
            OrderSeen(
                order_id=order_id,
                kind=kinds.get(order_id, "not placed by this run"),
                customer=str(placed.user_id) if placed else "",
                lines=dict(lines),
                status=status or ("PENDING" if placed else None),
                reason=first.reason.value if isinstance(first, OrderCancelled) else None,
                total=placed.total if placed else Decimal("0"),
                timeline=tuple(type(e).__name__ for e in events),
            )
        )
        if placed is not None and first is not None:
            took = first.envelope.timestamp - placed.envelope.timestamp
            latencies[order_id] = took.total_seconds()
    return seen, latencies


def _status(end: Event) -> str:
    return next(status for status, name in TERMINAL.items() if type(end).__name__ == name)


def _unseen(placed: Placed) -> OrderSeen:
    """An order orders answered 202 for, with no stream in its store."""
    return OrderSeen(str(placed.order_id), str(placed.arrival.order.kind), "", {}, None)


async def _products(databases: Databases) -> dict[str, tuple[int, int, int]]:
    rows = await databases.fetch("inventory", "SELECT sku, added, held, reserved FROM products")
    return {str(row[0]): (int(row[1]), int(row[2]), int(row[3])) for row in rows}


async def _ledger(databases: Databases) -> dict[str, PaymentSeen]:
    rows = await databases.fetch("payments", "SELECT order_id, status, amount FROM payments")
    return {
        str(row[0]): PaymentSeen(str(row[1]), Decimal(row[2]), str(row[1]) == "REFUNDED")
        for row in rows
    }


def _charges(messages: Iterable[TopicMessage]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for message in messages:
        if message.short_type == PaymentProcessed.__name__ and message.event_id:
            key = (message.key or b"").decode(errors="replace")
            found.setdefault(key, set()).add(message.event_id)
    return found


def _kafka_fed_types(services: Mapping[str, Service]) -> set[str]:
    wanted: set[str] = set()
    for service in services.values():
        for _, events in service.kafka_projections:
            wanted |= {event.FULL_NAME for event in events}
    return wanted


def _decode(messages: Iterable[TopicMessage], registry: str, wanted: set[str]) -> list[Event]:
    """The events of the ``wanted`` types on the topics, decoded with the registry's schemas."""
    codec = AvroCodec(RegistrySchemaLookup(registry))
    return [
        codec.decode(m.value, EVENT_TYPES[m.event_type])
        for m in messages
        if m.event_type in wanted and m.event_type in EVENT_TYPES
    ]


async def _unpublished(
    databases: Databases, services: Mapping[str, Service], messages: Iterable[TopicMessage]
) -> dict[str, list[str]]:
    on_topics = {m.event_id for m in messages}
    found = {}
    for name, service in services.items():
        local = [event.FULL_NAME for event in service.records]
        rows = await databases.fetch(
            name,
            "SELECT event_id, event_type FROM evp_events WHERE NOT event_type = ANY($1::text[])",
            local,
        )
        found[name] = [f"{row[1]} {row[0]}" for row in rows if str(row[0]) not in on_topics]
    return found


async def _projection_lags(databases: Databases, services: Mapping[str, Service]) -> dict[str, int]:
    found = {}
    for name, service in services.items():
        last, _, _ = await databases.outbox(name)
        for projection in service.store_projections:
            behind = last - await databases.checkpoint(name, projection.name)
            found[f"{name}/{projection.name}"] = behind
    return found


def _letters(kafka: str, prefix: str) -> dict[str, list[str]]:
    queue = DeadLetterQueue.from_settings(MessagingSettings.from_env({}), bootstrap_servers=kafka)
    return {
        topic: [(letter.key or b"").decode(errors="replace") for letter in queue.letters(topic)]
        for topic in dead_letter_topics(kafka, prefix)
    }


def _mail(maildir: Path) -> list[Mail]:
    if not (maildir / "new").exists():
        return []
    return [
        Mail(str(m.get("To", "")), str(m.get("Subject", "")), str(m.get("Message-ID", "")))
        for m in mailbox.Maildir(maildir, create=False)
    ]
