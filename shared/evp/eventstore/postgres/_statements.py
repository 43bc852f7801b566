"""The statements of the Postgres recorder, and the one that appends (see the package doc)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from evp.eventstore.recorder import NewEvent
from evp.postgres.migrations import AnyConnection

__all__ = [
    "COLUMNS",
    "PARKED_STREAMS",
    "Append",
    "check_expected",
    "insert",
    "stream_query",
    "stream_version",
]

Append = tuple[str, int, Sequence[NewEvent]]

# In StoredEvent's field order, so that a row converts with StoredEvent(*row).
COLUMNS = (
    "position, stream_id, stream_version, event_id, event_type,"
    " correlation_id, causation_id, recorded_at, data, key"
)
# In ParkedStream's field order.
PARKED_STREAMS = (
    "SELECT stream_id, position, event_type, reason, parked_at FROM evp_parked_streams"
    " WHERE relay = $1 ORDER BY position"
)
_INSERT_COLUMNS = (
    "position, recorded_at, stream_id, stream_version, event_id, event_type,"
    " correlation_id, causation_id, data, key"
)

# The recorded time is read once per append, in the UPDATE that takes the position lock:
# every event of an append shares it, and it never decreases along positions (nor, hence,
# along a stream's versions), which is what reading a stream "as of" a time relies on.

# One event: the common case, without the cost of arrays.
_APPEND_ONE = f"""
WITH allocated AS (
    UPDATE evp_event_position SET last_position = last_position + 1
    RETURNING last_position, clock_timestamp() AS recorded_at
)
INSERT INTO evp_events ({_INSERT_COLUMNS})
SELECT last_position, recorded_at, $1::text,
       CASE WHEN $2::integer = 0 OR EXISTS (
           SELECT 1 FROM evp_events WHERE stream_id = $1::text AND stream_version = $2::integer
       ) THEN $2::integer + 1 END,
       $3::uuid, $4::text, $5::uuid, $6::uuid, $7::bytea, $8::text
FROM allocated
"""

# Any number of events of any number of streams, as parallel arrays in one statement.
_APPEND_MANY = f"""
WITH allocated AS (
    UPDATE evp_event_position SET last_position = last_position + cardinality($1::text[])
    RETURNING last_position - cardinality($1::text[]) AS base, clock_timestamp() AS recorded_at
)
INSERT INTO evp_events ({_INSERT_COLUMNS})
SELECT allocated.base + batch.n, allocated.recorded_at, batch.stream_id,
       -- Only a stream's first new event needs its predecessor checked: the rest follow it.
       -- A scalar subquery, not EXISTS: the planner may run an EXISTS as one hashed scan of
       -- every stored event, which it picks when it takes the counter row for 2,200 rows (a
       -- table never analysed, as in a new database) -- one scan per append, growing with
       -- the store. A scalar subquery is always one probe of the unique key, when reached.
       CASE WHEN NOT batch.first OR batch.stream_version = 1 OR (
           SELECT true FROM evp_events e
           WHERE e.stream_id = batch.stream_id AND e.stream_version = batch.stream_version - 1
       ) THEN batch.stream_version END,
       batch.event_id, batch.event_type, batch.correlation_id, batch.causation_id, batch.data,
       batch.key
FROM allocated,
     unnest($1::text[], $2::integer[], $3::uuid[], $4::text[], $5::uuid[], $6::uuid[],
            $7::bytea[], $8::text[], $9::boolean[])
     WITH ORDINALITY AS batch(stream_id, stream_version, event_id, event_type,
                              correlation_id, causation_id, data, key, first, n)
"""


def stream_query(
    columns: str,
    stream_id: str,
    to_version: int | None,
    until: datetime.datetime | None,
) -> tuple[str, list[Any]]:
    # One statement per combination of limits, each prepared once: no generic-plan surprises.
    conditions = ["stream_id = $1"]
    arguments: list[Any] = [stream_id]
    if to_version is not None:
        arguments.append(to_version)
        conditions.append(f"stream_version <= ${len(arguments)}")
    if until is not None:
        arguments.append(until)
        conditions.append(f"recorded_at <= ${len(arguments)}")
    query = (
        f"SELECT {columns} FROM evp_events WHERE {' AND '.join(conditions)} ORDER BY stream_version"
    )
    return query, arguments


async def insert(connection: AnyConnection, appends: Sequence[Append]) -> None:
    if len(appends) == 1 and len(appends[0][2]) == 1:
        stream_id, expected_version, (event,) = appends[0]
        await connection.execute(
            _APPEND_ONE,
            stream_id,
            expected_version,
            event.event_id,
            event.event_type,
            event.correlation_id,
            event.causation_id,
            event.data,
            event.key,
        )
        return
    columns: tuple[list[Any], ...] = ([], [], [], [], [], [], [], [], [])
    stream_ids, versions, event_ids, types, correlations, causations, frames, keys, firsts = columns
    seen: set[str] = set()
    for stream_id, expected_version, events in appends:
        # Later appends to a stream in one transaction were chained when staged.
        first = stream_id not in seen
        seen.add(stream_id)
        for offset, event in enumerate(events, start=1):
            firsts.append(first and offset == 1)
            stream_ids.append(stream_id)
            versions.append(expected_version + offset)
            event_ids.append(event.event_id)
            types.append(event.event_type)
            correlations.append(event.correlation_id)
            causations.append(event.causation_id)
            frames.append(event.data)
            keys.append(event.key)
    await connection.execute(_APPEND_MANY, *columns)


async def stream_version(connection: AnyConnection, stream_id: str) -> int:
    version = await connection.fetchval(
        "SELECT max(stream_version) FROM evp_events WHERE stream_id = $1", stream_id
    )
    return int(version or 0)


def check_expected(expected_version: int) -> None:
    if expected_version < 0:
        raise ValueError(f"expected_version must be >= 0, not {expected_version}")
