"""The console's admin session: one bearer token for the admin routes, renewed before it ends.

The console shows what only an admin may see (sagas, analytics) and does what only an admin
may do (re-drive a saga step). It logs in as the seeded admin once, keeps the token until
shortly before it expires, and logs in again when a service answers 401 (a restarted users
service with new keys, say).
"""

from __future__ import annotations

import asyncio
import time

import httpx

from evp.web.errors import Unavailable

__all__ = ["AdminSession"]

_RENEW_BEFORE_S = 30.0


class AdminSession:
    """Logs in as the admin at the users service and hands out a current token."""

    def __init__(self, client: httpx.AsyncClient, users_url: str, email: str, password: str):
        self._client = client
        self._url = f"{users_url.rstrip('/')}/auth/token"
        self._credentials = {"email": email, "password": password}
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self, *, fresh: bool = False) -> str:
        """A token valid for at least the next half minute (a new one when ``fresh``)."""
        async with self._lock:
            if not fresh and self._token is not None and time.monotonic() < self._expires_at:
                return self._token
            try:
                answer = await self._client.post(self._url, json=self._credentials)
            except httpx.HTTPError as error:
                raise Unavailable(
                    f"the users service did not answer the admin login: {error}",
                    dependency="users",
                ) from error
            if answer.status_code != 200:
                raise Unavailable(
                    f"the admin login was refused ({answer.status_code})", dependency="users"
                )
            body = answer.json()
            self._token = str(body["access_token"])
            lifetime = float(body.get("expires_in", 300))
            self._expires_at = time.monotonic() + max(0.0, lifetime - _RENEW_BEFORE_S)
            return self._token

    async def get(self, url: str, **kwargs: object) -> httpx.Response:
        """GET ``url`` as the admin (logging in again once on a 401)."""
        return await self.request("GET", url, **kwargs)

    async def request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        """``method url`` as the admin; a second try with a fresh token after a 401."""
        answer = await self._send(method, url, await self.token(), **kwargs)
        if answer.status_code == 401:
            answer = await self._send(method, url, await self.token(fresh=True), **kwargs)
        return answer

    async def _send(self, method: str, url: str, token: str, **kwargs: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return await self._client.request(method, url, headers=headers, **kwargs)  # type: ignore[arg-type]
