"""The Postgres recorder (asyncpg): streams, gap-free positions and tracking in one database.

How positions stay gap-free and ordered
---------------------------------------
A ``bigserial`` would not do: sequence numbers are taken at insert time and never given
back, so a rolled-back append leaves a hole forever, and two appenders may commit in the
opposite order to their numbers -- a follower that has seen position 8 while 7 is still
uncommitted would skip 7 for good. Instead one row, ``evp_event_position``, holds the last
position handed out. Each append bumps it *in the statement that inserts the events*, so:

* the row lock taken by that UPDATE is held until commit: appenders take positions one
  transaction at a time, and commit in position order; once position n is visible, every
  position before it is too (Postgres makes a commit visible before releasing its locks);
* a rollback undoes the UPDATE with the inserts, so the numbers are handed out again.

The price is that appends to one database are serialised for as long as the lock is held.
That is kept to one statement and the commit: a :class:`PostgresTransaction` stages its
appends and writes them all in one statement just before COMMIT, and an append outside a
transaction is a single auto-committed statement (one round trip).

Conflicts are found by constraints inside that one statement, not by reading first: two
appenders of one version hit the unique key on ``(stream_id, stream_version)``. An expected
version ahead of the stream would leave a hole, so the statement writes the first new
version only if the expected one is stored -- else NULL, which the NOT NULL column refuses
(an index probe; a foreign key to the previous version did the same at twice the cost).
Either violation is translated here, and nowhere else, into a
:class:`~evp.eventstore.errors.ConcurrencyError` naming the stream and both versions.
"""

from evp.eventstore.postgres.recorder import (
    MIGRATIONS_COMPONENT,
    MIGRATIONS_PACKAGE,
    PostgresRecorder,
)
from evp.eventstore.postgres.transaction import PostgresTransaction

__all__ = ["MIGRATIONS_COMPONENT", "MIGRATIONS_PACKAGE", "PostgresRecorder", "PostgresTransaction"]
