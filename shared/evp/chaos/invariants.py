"""What the shop promises under faults, checked on the :class:`~evp.chaos.audit.Audit`.

The demo's checks (:mod:`evp.demo.invariants`) run first, unchanged, on the observation
the audit builds from the stores: each order terminal exactly once, no stock oversold or
leaked, charges minus refunds equal the confirmed totals, one email per terminal order
and one welcome per customer, no dead letters (but the injected ones). The checks here
add what only the stores and the topics can show, in the same shape: pure functions
returning a :class:`~evp.demo.invariants.Verdict` with its figures and offenders.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from evp.chaos.audit import POISON_KEY, Audit
from evp.chaos.injector import Injected
from evp.chaos.quiescence import Quiet
from evp.chaos.schedule import FaultKind
from evp.demo import invariants as demo
from evp.demo.invariants import TERMINAL, Verdict, verdict
from evp.demo.report import percentile

__all__ = [
    "analytics_complete",
    "charged_once",
    "check_all",
    "ended_in_time",
    "faults_recovered",
    "notified_once",
    "outboxes_drained",
    "poison_dead_lettered",
    "quiet_in_time",
    "read_models_replay",
    "stock_conserved",
]

_TEMPLATE = {"CONFIRMED": "order_confirmed", "CANCELLED": "order_cancelled"}


def ended_in_time(audit: Audit) -> Verdict:
    """Every arrival was placed, and every order ended within the bound of its placement."""
    offenders = [
        f"arrival {p.arrival.key} ({p.arrival.order.kind}) not placed: {p.error}"
        for p in audit.placed
        if p.order_id is None
    ]
    for order in audit.observation.orders:
        took = audit.latencies.get(order.order_id)
        if took is None:
            offenders.append(f"{order.order_id} ({order.kind}): no end, status {order.status}")
        elif took > audit.bound_s:
            offenders.append(f"{order.order_id} ({order.kind}): ended after {took:.1f} s")
    times = list(audit.latencies.values())
    return verdict(
        f"every order ended within {audit.bound_s:.0f} s of its placement",
        offenders,
        arrivals=len(audit.placed),
        orders=len(audit.observation.orders),
        ended=len(times),
        p50_s=_rounded(percentile(times, 50)),
        p99_s=_rounded(percentile(times, 99)),
        max_s=_rounded(max(times, default=None)),
    )


def stock_conserved(audit: Audit) -> Verdict:
    """Per SKU, inventory's table equals its store folded; nothing held once every order
    ended; reserved = the units of confirmed orders; no level ever below zero."""
    fold = audit.stock_fold
    confirmed: Counter[str] = Counter()
    for order in audit.observation.orders:
        if order.status == "CONFIRMED":
            confirmed.update(order.lines)
    offenders = list(fold.negatives)
    for sku in sorted(set(audit.stock_table) | set(fold.added)):
        table = audit.stock_table.get(sku)
        folded = (fold.added[sku], fold.held[sku], fold.reserved[sku])
        if table != folded:
            offenders.append(f"{sku}: table (added, held, reserved) {table} != store {folded}")
        elif table[1] != 0 or table[2] != confirmed[sku] or table[0] < table[1] + table[2]:
            offenders.append(
                f"{sku}: added {table[0]}, held {table[1]}, reserved {table[2]}, "
                f"confirmed units {confirmed[sku]}"
            )
    tables = audit.stock_table.values()
    return verdict(
        "stock conserved per SKU (added = available + held + reserved), never negative",
        offenders,
        skus=len(audit.stock_table),
        added=sum(t[0] for t in tables),
        available=sum(t[0] - t[1] - t[2] for t in tables),
        held=sum(t[1] for t in tables),
        reserved=sum(t[2] for t in tables),
        confirmed_units=sum(confirmed.values()),
        lowest_available=min(fold.lowest.values(), default=None),
    )


def charged_once(audit: Audit) -> Verdict:
    """No order charged twice or refunded twice, in payments' store or on its topic."""
    offenders = []
    for order_id, events in sorted(audit.payment_events.items()):
        charges, refunds = events["PaymentProcessed"], events["PaymentRefunded"]
        if charges > 1 or refunds > 1 or refunds > charges:
            offenders.append(f"{order_id}: {charges} charge(s), {refunds} refund(s) stored")
    for order_id, ids in sorted(audit.topic_charges.items()):
        if len(ids) > 1:
            offenders.append(f"{order_id}: {len(ids)} PaymentProcessed events on the topic")
    return verdict(
        "no order charged or refunded twice",
        offenders,
        payments=len(audit.payment_events),
        charges=sum(e["PaymentProcessed"] for e in audit.payment_events.values()),
        refunds=sum(e["PaymentRefunded"] for e in audit.payment_events.values()),
        charges_on_topic=sum(len(ids) for ids in audit.topic_charges.values()),
    )


def notified_once(audit: Audit) -> Verdict:
    """Notifications' ledger: one welcome per user, one email per terminal order saying how
    it ended, each sent; the sink got one message per email sent.

    A second copy of one Message-ID is the window notifications' sender documents (killed
    between the SMTP server's acceptance and its commit): counted as ``resent``, one email.
    """
    rows = Counter((template, about) for template, about, _ in audit.notifications)
    offenders = [
        f"{template} about {about}: {status}"
        for template, about, status in audit.notifications
        if status != "sent"
    ]
    offenders += [f"{t} about {a}: {n} rows" for (t, a), n in rows.items() if n > 1]
    for user in audit.users:
        if rows[("welcome", user)] != 1:
            offenders.append(f"user {user}: {rows[('welcome', user)]} welcome(s)")
    terminal = [o for o in audit.observation.orders if o.status in TERMINAL]
    for order in terminal:
        mine = {t: rows[(t, order.order_id)] for t in _TEMPLATE.values()}
        if mine != {t: int(t == _TEMPLATE[str(order.status)]) for t in _TEMPLATE.values()}:
            offenders.append(f"order {order.order_id} ({order.status}): {mine}")
    sent = sum(1 for _, _, status in audit.notifications if status == "sent")
    distinct = len({mail.message_id for mail in audit.mail})
    if distinct != sent:
        offenders.append(f"{distinct} distinct message(s) in the sink for {sent} sent")
    return verdict(
        "one welcome per user, one email per terminal order, no duplicates",
        offenders,
        users=len(audit.users),
        terminal_orders=len(terminal),
        ledger_rows=len(audit.notifications),
        sent=sent,
        sink_messages=distinct,
        resent=len(audit.mail) - distinct,
    )


def read_models_replay(audit: Audit) -> Verdict:
    """Every read model equals its rebuild by replay (the store, or the topics)."""
    offenders = [
        f"{model.service}/{model.projection} ({model.source}): {table}: {how}"
        for model in audit.read_models
        for table, how in model.differences.items()
    ]
    return verdict(
        "every read model equals a rebuild by replay",
        offenders,
        store_fed=sum(1 for m in audit.read_models if m.source == "store"),
        kafka_fed=sum(1 for m in audit.read_models if m.source == "kafka"),
        models=", ".join(f"{m.service}/{m.projection}" for m in audit.read_models),
        events_replayed=sum(m.events for m in audit.read_models),
    )


def analytics_complete(audit: Audit) -> Verdict:
    """Analytics keeps exactly one copy of every event on the topics (nothing lost)."""
    on_topics = set(audit.topic_ids)
    missing, extra = on_topics - audit.analytics_ids, audit.analytics_ids - on_topics
    offenders = [f"not kept: {event_id}" for event_id in sorted(missing)]
    offenders += [f"kept, on no topic: {event_id}" for event_id in sorted(extra)]
    messages = sum(audit.topic_ids.values())
    return verdict(
        "analytics holds every event on the topics",
        offenders,
        events_on_topics=len(on_topics),
        messages=messages,
        republished=messages - len(on_topics),
        copies=len(audit.analytics_ids),
    )


def outboxes_drained(audit: Audit) -> Verdict:
    """Every outbox published all it stored (no stream parked) and every store-fed read
    model followed its store to the end."""
    offenders = []
    for service, (last, relayed, parked) in sorted(audit.outboxes.items()):
        if relayed < last or parked:
            offenders.append(f"{service}: relayed to {relayed} of {last}, {parked} parked")
        offenders += [f"{service}: unpublished {e}" for e in audit.unpublished.get(service, [])]
    offenders += [f"{name}: {n} behind" for name, n in sorted(audit.projection_lags.items()) if n]
    return verdict(
        "every outbox drained, every read model caught up",
        offenders,
        services=len(audit.outboxes),
        stored=sum(last for last, _, _ in audit.outboxes.values()),
        waiting=sum(max(0, last - relayed) for last, relayed, _ in audit.outboxes.values()),
        parked=sum(parked for _, _, parked in audit.outboxes.values()),
        unpublished=sum(len(e) for e in audit.unpublished.values()),
    )


def poison_dead_lettered(audit: Audit) -> Verdict:
    """Every message ``--poison`` injected was dead-lettered (by each group reading it)."""
    keys = Counter(k for keys in audit.letters.values() for k in keys if k.startswith(POISON_KEY))
    offenders = [
        f"{POISON_KEY}{i} not dead-lettered"
        for i in range(audit.poisoned)
        if not keys[f"{POISON_KEY}{i}"]
    ]
    return verdict(
        "the injected poison was dead-lettered",
        offenders,
        injected=audit.poisoned,
        letters=sum(keys.values()),
    )


def faults_recovered(injected: Sequence[Injected]) -> Verdict:
    """Every process hit came back at the address it had (a killed one as a new process)."""
    offenders = [
        f"{i.fault.process.name} ({i.fault.kind}): pid {i.pid_before} -> {i.pid_after}, "
        f"{i.address_before} -> {i.address_after}, down {i.down_s}"
        for i in injected
        if not i.back
    ]
    downs = [i.down_s for i in injected if i.down_s is not None]
    return verdict(
        "every process hit came back on its address",
        offenders,
        faults=len(injected),
        kills=sum(1 for i in injected if i.fault.kind is FaultKind.KILL),
        pauses=sum(1 for i in injected if i.fault.kind is FaultKind.PAUSE),
        processes=len({i.fault.process.name for i in injected}),
        max_down_s=_rounded(max(downs, default=None)),
    )


def quiet_in_time(quiet: Quiet, bound_s: float) -> Verdict:
    """The platform was quiet within the bound after the last fault and the last order."""
    offenders = [] if quiet.reached else [f"still going after {quiet.waited_s:.0f} s: {quiet.last}"]
    return verdict(
        f"quiet within {bound_s:.0f} s after the last fault and order",
        offenders,
        waited_s=round(quiet.waited_s, 1),
        **(quiet.last.document() if quiet.last else {}),
    )


def check_all(audit: Audit, injected: Sequence[Injected], quiet: Quiet) -> list[Verdict]:
    """The demo's invariants, then these, in the order the report prints them."""
    verdicts = demo.check_all(audit.observation)
    verdicts += [
        ended_in_time(audit),
        stock_conserved(audit),
        charged_once(audit),
        notified_once(audit),
        read_models_replay(audit),
        analytics_complete(audit),
        outboxes_drained(audit),
    ]
    if audit.poisoned:
        verdicts.append(poison_dead_lettered(audit))
    verdicts += [faults_recovered(injected), quiet_in_time(quiet, audit.bound_s)]
    return verdicts


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
