"""The JWKS document: served by the users service, fetched and cached by every other one.

:class:`RemoteJwks` fetches the document once and answers from its cache. A token naming
a key it does not hold (the users service rotated its key) makes it fetch again, but no
more often than ``min_refetch_interval``, so a stream of tokens with made-up key ids
cannot turn into a stream of requests to the users service.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import jwt
from fastapi import APIRouter

from evp.web.auth.keys import ALGORITHM, KeySet
from evp.web.errors import Unavailable

__all__ = ["JWKS_PATH", "RemoteJwks", "jwks_router"]

JWKS_PATH = "/.well-known/jwks.json"

_log = logging.getLogger("evp.web.auth")


def jwks_router(keys: KeySet) -> APIRouter:
    """A public ``GET /.well-known/jwks.json`` answering with ``keys``' public halves."""
    router = APIRouter(tags=["auth"])
    document = keys.jwks_document()

    @router.get(JWKS_PATH, summary="The public keys that verify access tokens")
    async def jwks() -> dict[str, Any]:
        return document

    return router


class RemoteJwks:
    """Public keys from a JWKS URL, fetched with httpx and cached by ``kid``."""

    def __init__(
        self,
        url: str,
        *,
        min_refetch_interval: float = 30.0,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self.min_refetch_interval = min_refetch_interval
        self.timeout = timeout
        self._transport = transport
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock: asyncio.Lock | None = None

    async def key(self, kid: str) -> jwt.PyJWK | None:
        """The public key named ``kid``, fetching the document when it may have changed.

        Raises :class:`~evp.web.errors.Unavailable` while no key could be fetched at all:
        no token can be verified then, which is not the caller's fault.
        """
        found = self._keys.get(kid)
        if found is not None:
            return found
        if self._may_fetch():
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                # Another request may have fetched while this one waited for the lock.
                if kid not in self._keys and self._may_fetch():
                    await self._fetch()
        if not self._keys:
            raise Unavailable(
                f"the signing keys at {self.url} could not be fetched", dependency="jwks"
            )
        return self._keys.get(kid)

    def _may_fetch(self) -> bool:
        return (
            self._fetched_at is None
            or time.monotonic() - self._fetched_at >= self.min_refetch_interval
        )

    async def _fetch(self) -> None:
        self._fetched_at = time.monotonic()
        try:
            # A client per fetch: fetches are rare, and a client outliving its event loop
            # (a test client's, a restarted worker's) would fail on its pooled connections.
            async with httpx.AsyncClient(transport=self._transport, timeout=self.timeout) as client:
                response = await client.get(self.url)
                response.raise_for_status()
                key_set = jwt.PyJWKSet.from_dict(response.json())
        except (httpx.HTTPError, ValueError, jwt.PyJWKSetError) as error:
            # Keep the keys already known: tokens they signed stay verifiable.
            _log.warning("fetching the signing keys at %s failed: %s", self.url, error)
            return
        self._keys = {
            key.key_id: key
            for key in key_set.keys
            if key.key_id is not None and key.algorithm_name == ALGORITHM
        }
