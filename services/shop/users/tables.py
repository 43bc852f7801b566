"""The users database's own tables, beside the event store's: credentials, failed logins
(per email and per client address), signing keys."""

from __future__ import annotations

from evp.postgres import Migration

__all__ = ["MIGRATIONS", "MIGRATIONS_COMPONENT"]

MIGRATIONS_COMPONENT = "users"

MIGRATIONS = (
    Migration(
        1,
        "accounts",
        """
        -- Written in the transaction that stores the account's events, so the unique
        -- email is what decides between two registrations of one address.
        CREATE TABLE users_accounts (
            user_id       uuid        PRIMARY KEY,
            email         text        NOT NULL CHECK (email = lower(email)),
            password_hash text        NOT NULL,
            role          text        NOT NULL CHECK (role IN ('customer', 'admin')),
            created_at    timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT users_accounts_email_key UNIQUE (email)
        );
        """,
    ),
    Migration(
        2,
        "login_failures",
        """
        -- Kept in the database, not in memory, so every replica counts the same failures.
        CREATE TABLE users_login_failures (
            email     text        NOT NULL,
            failed_at timestamptz NOT NULL DEFAULT clock_timestamp()
        );
        CREATE INDEX users_login_failures_email_idx ON users_login_failures (email, failed_at);
        CREATE INDEX users_login_failures_failed_at_idx ON users_login_failures (failed_at);
        """,
    ),
    Migration(
        3,
        "signing_keys",
        """
        -- The private keys that sign access tokens; the newest signs, all verify.
        CREATE TABLE users_signing_keys (
            kid         text        PRIMARY KEY,
            private_key bytea       NOT NULL,
            created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
        );
        """,
    ),
    Migration(
        4,
        "login_address_failures",
        """
        -- Failed logins per client address, whatever the email: apart from the per-email
        -- count because a successful login clears that one, and must not clear this one.
        CREATE TABLE users_login_address_failures (
            address   text        NOT NULL,
            failed_at timestamptz NOT NULL DEFAULT clock_timestamp()
        );
        CREATE INDEX users_login_address_failures_address_idx
            ON users_login_address_failures (address, failed_at);
        CREATE INDEX users_login_address_failures_failed_at_idx
            ON users_login_address_failures (failed_at);
        """,
    ),
)
