"""A service's projections module, as ``evp replay`` finds it: ``PROJECTIONS`` and its tables."""

from __future__ import annotations

from evp.avro import Event
from evp.events import EmailChanged, UserRegistered
from evp.eventstore import PostgresTransaction
from evp.postgres import Migration

MIGRATIONS_COMPONENT = "users-read-models"
MIGRATIONS = (
    Migration(
        1,
        "users_by_email",
        """
        CREATE TABLE users_by_email (
            user_id      uuid    PRIMARY KEY,
            email        text    NOT NULL,
            display_name text    NOT NULL,
            changes      integer NOT NULL DEFAULT 0
        );
        CREATE INDEX users_by_email_email_idx ON users_by_email (email);
        """,
    ),
)


class UsersByEmail:
    """Users looked up by their current email address."""

    name = "users_by_email"
    event_types = frozenset({UserRegistered.FULL_NAME, EmailChanged.FULL_NAME})

    async def handle(self, event: Event, transaction: PostgresTransaction) -> None:
        """Insert a registered user; move a user to the new address."""
        match event:
            case UserRegistered():
                await transaction.connection.execute(
                    "INSERT INTO users_by_email (user_id, email, display_name) VALUES ($1, $2, $3)",
                    event.user_id,
                    event.email,
                    event.display_name,
                )
            case EmailChanged():
                await transaction.connection.execute(
                    "UPDATE users_by_email SET email = $2, changes = changes + 1"
                    " WHERE user_id = $1",
                    event.user_id,
                    event.new_email,
                )

    async def reset(self, transaction: PostgresTransaction) -> None:
        """Delete every row (readers keep the old rows until the rebuild commits)."""
        await transaction.connection.execute("DELETE FROM users_by_email")


PROJECTIONS = (UsersByEmail(),)
