"""Every read model compared with a rebuild of it by replay, once the platform is quiet.

* A **store-fed** read model (``orders_by_user``, ``order_sagas``, ``order_facts``,
  ``event_counts``) is rebuilt exactly as ``evp replay --service S --projection P`` rebuilds
  it (:meth:`ProjectionRunner.rebuild
  <evp.eventstore.projection.ProjectionRunner.rebuild>`: emptied and refolded from the
  service's own store, committed in one transaction); the service's tables before and
  after must be equal.
* A **Kafka-fed** read model (orders' ``catalogue``, notifications' ``recipients`` and
  ``orders``) has no store to replay: its projection is folded again from the topics'
  events (each event id once, as :func:`~evp.eventstore.project_once` would), in a
  transaction that is rolled back, and the tables inside it compared with the live ones.

Which tables a read model owns is not declared anywhere, so the comparison covers every
table of the service but the event store's: a rebuild must leave all of them as they were.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from evp.avro import Event
from evp.chaos.databases import Databases, table_rows
from evp.eventstore import PostgresRecorder, ProjectionRunner
from evp.service import Service

__all__ = ["ReadModel", "compare_read_models"]

_SHOWN = 3


@dataclass(frozen=True)
class ReadModel:
    """One read model's comparison: how many rows, and the tables that differ."""

    service: str
    projection: str
    source: str
    """``store`` or ``kafka``."""
    events: int
    """Events folded into the rebuild."""
    rows: int
    """Rows of the service's tables, live."""
    differences: dict[str, str] = field(default_factory=dict)
    """Per table that differs: how (rows only live, rows only rebuilt, a few of them)."""

    @property
    def equal(self) -> bool:
        """Whether the rebuild left every table as it was."""
        return not self.differences

    def document(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "service": self.service,
            "projection": self.projection,
            "source": self.source,
            "events": self.events,
            "rows": self.rows,
            "equal": self.equal,
            "differences": self.differences,
        }


class _RolledBack(Exception):
    """Raised to leave the folding transaction without committing it."""


async def compare_read_models(
    databases: Databases,
    services: Mapping[str, Service],
    topic_events: Sequence[Event],
) -> list[ReadModel]:
    """Every read model of ``services``, each compared with its rebuild by replay."""
    found = []
    for name, service in services.items():
        for projection in service.store_projections:
            found.append(await _store_fed(databases, name, projection))
        for projection, _ in service.kafka_projections:
            found.append(await _kafka_fed(databases, name, projection, topic_events))
    return found


async def _store_fed(databases: Databases, service: str, projection: Any) -> ReadModel:
    before = await databases.tables(service)
    async with databases.store(service) as store:
        handled = await ProjectionRunner(store, projection).rebuild()
    after = await databases.tables(service)
    return ReadModel(
        service, projection.name, "store", handled, _count(before), _differences(before, after)
    )


async def _kafka_fed(
    databases: Databases, service: str, projection: Any, topic_events: Sequence[Event]
) -> ReadModel:
    wanted = projection.event_types
    seen: set[Any] = set()
    events = []
    for event in topic_events:
        if (wanted is None or event.FULL_NAME in wanted) and event.envelope.event_id not in seen:
            seen.add(event.envelope.event_id)
            events.append(event)
    recorder = await PostgresRecorder.connect(databases.urls[service])
    before: dict[str, list[tuple[Any, ...]]] = {}
    after: dict[str, list[tuple[Any, ...]]] = {}
    try:
        async with recorder.transaction() as transaction:
            before = await table_rows(transaction.connection)
            await projection.reset(transaction)
            for event in events:
                await projection.handle(event, transaction)
            after = await table_rows(transaction.connection)
            raise _RolledBack
    except _RolledBack:
        pass
    finally:
        await recorder.close()
    return ReadModel(
        service, projection.name, "kafka", len(events), _count(before), _differences(before, after)
    )


def _count(tables: Mapping[str, list[tuple[Any, ...]]]) -> int:
    return sum(len(rows) for rows in tables.values())


def _differences(
    before: Mapping[str, list[tuple[Any, ...]]], after: Mapping[str, list[tuple[Any, ...]]]
) -> dict[str, str]:
    found = {}
    for table in sorted(set(before) | set(after)):
        live, rebuilt = Counter(before.get(table, [])), Counter(after.get(table, []))
        if live == rebuilt:
            continue
        only_live, only_rebuilt = live - rebuilt, rebuilt - live
        shown = [f"live {row!r}" for row in list(only_live)[:_SHOWN]]
        shown += [f"rebuilt {row!r}" for row in list(only_rebuilt)[:_SHOWN]]
        found[table] = (
            f"{sum(only_live.values())} row(s) only live, "
            f"{sum(only_rebuilt.values())} only rebuilt: " + "; ".join(shown)
        )
    return found
