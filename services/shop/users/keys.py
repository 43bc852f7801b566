"""The signing keys, kept in the users database so that restarts and replicas sign alike."""

from __future__ import annotations

import logging

import asyncpg

from evp.web import KeySet, SigningKey

__all__ = ["load_or_create_keys"]

_log = logging.getLogger("shop.users")

_SELECT = "SELECT kid, private_key FROM users_signing_keys ORDER BY created_at DESC, kid"


async def load_or_create_keys(pool: asyncpg.Pool) -> KeySet:
    """The stored keys, newest first (it signs); at first start, a new key, stored."""
    async with pool.acquire() as connection:
        rows = await connection.fetch(_SELECT)
        if not rows:
            async with connection.transaction():
                # Replicas starting together: one creates the key, the others wait for the
                # lock and then find it, so every replica signs with the same key.
                await connection.execute(
                    "LOCK TABLE users_signing_keys IN SHARE ROW EXCLUSIVE MODE"
                )
                rows = await connection.fetch(_SELECT)
                if not rows:
                    key = SigningKey.generate()
                    await connection.execute(
                        "INSERT INTO users_signing_keys (kid, private_key) VALUES ($1, $2)",
                        key.kid,
                        key.to_pem(),
                    )
                    _log.info("users: created signing key %s", key.kid)
                    return KeySet([key])
    return KeySet([SigningKey.from_pem(row["private_key"], row["kid"]) for row in rows])
