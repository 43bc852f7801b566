"""Password hashing with argon2 (argon2-cffi), off the event loop: it is slow on purpose."""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["Passwords"]


class Passwords:
    """Hashes new passwords and checks given ones against stored hashes."""

    def __init__(self, hasher: PasswordHasher, decoy_hash: str) -> None:
        self._hasher = hasher
        self._decoy_hash = decoy_hash

    @classmethod
    async def start(cls, hasher: PasswordHasher | None = None) -> Passwords:
        """Passwords with argon2's recommended parameters, and a decoy hash made now."""
        hasher = hasher or PasswordHasher()
        decoy = await asyncio.to_thread(hasher.hash, secrets.token_urlsafe(32))
        return cls(hasher, decoy)

    async def hash(self, password: str) -> str:
        """The encoded argon2 hash of ``password`` (salted, parameters included)."""
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored_hash``.

        Without a stored hash (no such account) the password is checked against a decoy,
        so that an unknown email takes as long to refuse as a wrong password.
        """
        try:
            await asyncio.to_thread(self._hasher.verify, stored_hash or self._decoy_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        return stored_hash is not None
