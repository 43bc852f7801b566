"""Credentials (email, password hash, role) and failed logins (per email and per client
address), in the users database.

Every function takes the connection to run on: the one of a store transaction when the
write must commit with the account's events, a pooled one otherwise.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

import asyncpg

from evp.postgres.migrations import AnyConnection
from evp.web import Conflict, Role

__all__ = [
    "Account",
    "EmailTaken",
    "address_retry_after",
    "change_email",
    "clear_failures",
    "find",
    "find_by_email",
    "insert",
    "insert_unless_taken",
    "login_retry_after",
    "record_failure",
]

_EMAIL_KEY = "users_accounts_email_key"


class EmailTaken(Conflict):
    """Another account has this email address."""

    def __init__(self, email: str) -> None:
        super().__init__("an account with this email address exists", email=email)
        self.email = email


@dataclass(frozen=True)
class Account:
    """What signing in needs: who, their hash, and what they may do."""

    user_id: uuid.UUID
    email: str
    password_hash: str
    role: Role

    def __repr__(self) -> str:
        # The hash is not the password, but it is what an attacker would crack offline.
        return f"Account(user_id={self.user_id}, email={self.email!r}, role={self.role.value})"


_COLUMNS = "user_id, email, password_hash, role"


def _account(row: asyncpg.Record | None) -> Account | None:
    if row is None:
        return None
    return Account(row["user_id"], row["email"], row["password_hash"], Role(row["role"]))


async def find(connection: AnyConnection, user_id: uuid.UUID) -> Account | None:
    """The account ``user_id``, if any."""
    row = await connection.fetchrow(
        f"SELECT {_COLUMNS} FROM users_accounts WHERE user_id = $1", user_id
    )
    return _account(row)


async def find_by_email(connection: AnyConnection, email: str) -> Account | None:
    """The account with this (normalized) email, if any."""
    row = await connection.fetchrow(
        f"SELECT {_COLUMNS} FROM users_accounts WHERE email = $1", email
    )
    return _account(row)


async def insert(connection: AnyConnection, account: Account) -> None:
    """Store a new account; :class:`EmailTaken` when its email is another's."""
    try:
        await connection.execute(
            f"INSERT INTO users_accounts ({_COLUMNS}) VALUES ($1, $2, $3, $4)",
            account.user_id,
            account.email,
            account.password_hash,
            account.role.value,
        )
    except asyncpg.UniqueViolationError as error:
        raise _translated(error, account.email) from error


async def insert_unless_taken(connection: AnyConnection, account: Account) -> bool:
    """Store a new account unless its email is taken; whether it was stored."""
    inserted = await connection.fetchval(
        f"INSERT INTO users_accounts ({_COLUMNS}) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (email) DO NOTHING RETURNING user_id",
        account.user_id,
        account.email,
        account.password_hash,
        account.role.value,
    )
    return inserted is not None


async def change_email(connection: AnyConnection, user_id: uuid.UUID, email: str) -> None:
    """Move account ``user_id`` to ``email``; :class:`EmailTaken` when it is another's."""
    try:
        await connection.execute(
            "UPDATE users_accounts SET email = $2 WHERE user_id = $1", user_id, email
        )
    except asyncpg.UniqueViolationError as error:
        raise _translated(error, email) from error


def _translated(error: asyncpg.UniqueViolationError, email: str) -> Exception:
    if getattr(error, "constraint_name", None) == _EMAIL_KEY:
        return EmailTaken(email)
    return error


# -- failed logins ------------------------------------------------------------------------
# Counted twice: per email (stops guessing at one account from many addresses; a successful
# login clears it) and per client address (stops one address trying a few passwords at
# many accounts; never cleared by a success, or an attacker's own account would reset it).

_BY_EMAIL = ("users_login_failures", "email")
_BY_ADDRESS = ("users_login_address_failures", "address")


async def login_retry_after(
    connection: AnyConnection, email: str, *, max_failures: int, window_s: float
) -> int | None:
    """Seconds until ``email`` may try again, or ``None`` when it may try now.

    It may not once ``max_failures`` failures fall within the last ``window_s`` seconds,
    until the oldest of them leaves the window.
    """
    return await _retry_after(connection, _BY_EMAIL, email, max_failures, window_s)


async def address_retry_after(
    connection: AnyConnection, address: str, *, max_failures: int, window_s: float
) -> int | None:
    """Seconds until the client ``address`` may try again, or ``None`` when it may try now
    (the rule of :func:`login_retry_after`, over the address's failures, whatever emails)."""
    return await _retry_after(connection, _BY_ADDRESS, address, max_failures, window_s)


async def record_failure(
    connection: AnyConnection, email: str, *, window_s: float, address: str | None = None
) -> None:
    """Count one failed login for ``email`` (and for the client ``address``, when known),
    and forget failures older than the window."""
    await _record(connection, _BY_EMAIL, email, window_s)
    if address is not None:
        await _record(connection, _BY_ADDRESS, address, window_s)


async def _retry_after(
    connection: AnyConnection,
    counter: tuple[str, str],
    key: str,
    max_failures: int,
    window_s: float,
) -> int | None:
    table, column = counter
    row = await connection.fetchrow(
        f"""
        SELECT count(*) AS failures,
               extract(epoch FROM min(failed_at) + make_interval(secs => $2)
                                  - clock_timestamp()) AS wait_s
        FROM (SELECT failed_at FROM {table}
              WHERE {column} = $1 AND failed_at > clock_timestamp() - make_interval(secs => $2)
              ORDER BY failed_at DESC
              LIMIT $3) AS recent
        """,
        key,
        window_s,
        max_failures,
    )
    if row is None or row["failures"] < max_failures:
        return None
    return max(1, math.ceil(float(row["wait_s"])))


async def _record(
    connection: AnyConnection, counter: tuple[str, str], key: str, window_s: float
) -> None:
    table, column = counter
    await connection.execute(
        f"DELETE FROM {table} WHERE failed_at <= clock_timestamp() - make_interval(secs => $1)",
        window_s,
    )
    await connection.execute(f"INSERT INTO {table} ({column}) VALUES ($1)", key)


async def clear_failures(connection: AnyConnection, email: str) -> None:
    """Forget ``email``'s failed logins (it just signed in)."""
    await connection.execute("DELETE FROM users_login_failures WHERE email = $1", email)
