"""Access tokens: issued by the users service, verified by every service into a Principal.

A token is a JWT signed with the users service's current Ed25519 key, carrying the user
id (``sub``), email and role, with issuer, audience and expiry. Verifiers look the key up
by the token's ``kid`` in a :class:`KeySource`: the users service's own key set, or the
JWKS document it publishes (:class:`evp.web.auth.jwks.RemoteJwks`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

import jwt

from evp.web.auth.jwks import RemoteJwks
from evp.web.auth.keys import ALGORITHM, KeySet
from evp.web.errors import Unauthorized

__all__ = [
    "AccessToken",
    "KeySource",
    "LocalKeys",
    "Principal",
    "Role",
    "TokenIssuer",
    "TokenVerifier",
]

_REQUIRED_CLAIMS = ["sub", "email", "role", "iat", "exp", "iss", "aud"]


class Role(StrEnum):
    """What a user may do: shop, or also run the shop."""

    CUSTOMER = "customer"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """The user a verified token speaks for."""

    user_id: uuid.UUID
    email: str
    role: Role

    @property
    def is_admin(self) -> bool:
        """Whether the user may use admin routes."""
        return self.role is Role.ADMIN


@dataclass(frozen=True)
class AccessToken:
    """An issued token and how many seconds it lives (an OAuth 2 token response's fields)."""

    access_token: str
    expires_in: int
    token_type: str = "Bearer"

    def __repr__(self) -> str:
        # The token is a credential: keep it out of logs and assertion messages.
        return f"AccessToken(expires_in={self.expires_in}, token_type={self.token_type!r})"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class TokenIssuer:
    """Signs access tokens with the key set's current key."""

    def __init__(
        self,
        keys: KeySet,
        *,
        issuer: str,
        audience: str,
        expires_in: timedelta = timedelta(minutes=15),
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.expires_in = expires_in
        self._clock = clock

    def issue(self, user_id: uuid.UUID, email: str, role: Role) -> AccessToken:
        """A token for this user, valid from now for :attr:`expires_in`."""
        now = self._clock()
        claims = {
            "sub": str(user_id),
            "email": email,
            "role": Role(role).value,
            "iat": int(now.timestamp()),
            "exp": int((now + self.expires_in).timestamp()),
            "iss": self.issuer,
            "aud": self.audience,
        }
        key = self.keys.current
        token = jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})
        return AccessToken(token, int(self.expires_in.total_seconds()))


class KeySource(Protocol):
    """Where a verifier finds the public key a token names."""

    async def key(self, kid: str) -> jwt.PyJWK | None:
        """The public key named ``kid``; ``None`` when there is none."""
        ...


class LocalKeys:
    """The public halves of a key set held in this process (the users service, tests)."""

    def __init__(self, keys: KeySet) -> None:
        self._keys = {jwk["kid"]: jwt.PyJWK(jwk, ALGORITHM) for jwk in keys.jwks_document()["keys"]}

    async def key(self, kid: str) -> jwt.PyJWK | None:
        """The public key named ``kid``."""
        return self._keys.get(kid)


class TokenVerifier:
    """Verifies bearer tokens: signature, expiry, issuer, audience, then typed claims."""

    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        audience: str,
        leeway: timedelta = timedelta(seconds=30),
    ) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway

    @classmethod
    def local(cls, keys: KeySet, *, issuer: str, audience: str) -> TokenVerifier:
        """A verifier for tokens signed by ``keys``, held in this process."""
        return cls(LocalKeys(keys), issuer=issuer, audience=audience)

    @classmethod
    def from_jwks_url(
        cls, url: str, *, issuer: str, audience: str, min_refetch_interval: float = 30.0
    ) -> TokenVerifier:
        """A verifier for tokens signed by the keys published at ``url`` (fetched lazily)."""
        remote = RemoteJwks(url, min_refetch_interval=min_refetch_interval)
        return cls(remote, issuer=issuer, audience=audience)

    async def verify(self, token: str) -> Principal:
        """The principal ``token`` speaks for; :class:`Unauthorized` saying why it does not.

        No reason quotes the token or its claims' values.
        """
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise Unauthorized("the bearer token is not a well-formed JWT") from error
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Unauthorized("the bearer token names no signing key (kid)")
        key = await self.keys.key(kid)
        if key is None:
            raise Unauthorized("the bearer token is signed with an unknown key")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.InvalidTokenError as error:
            raise Unauthorized(_reason(error)) from error
        return _principal(claims)


def _reason(error: jwt.InvalidTokenError) -> str:
    # Most specific first: several of these subclass one another.
    if isinstance(error, jwt.ExpiredSignatureError):
        return "the bearer token has expired"
    if isinstance(error, jwt.InvalidAudienceError):
        return "the bearer token is meant for another audience"
    if isinstance(error, jwt.InvalidIssuerError):
        return "the bearer token comes from another issuer"
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"the bearer token lacks the {error.claim} claim"
    if isinstance(error, jwt.InvalidSignatureError):
        return "the bearer token's signature does not verify"
    if isinstance(error, jwt.ImmatureSignatureError):
        return "the bearer token is not valid yet"
    if isinstance(error, jwt.InvalidAlgorithmError):
        return f"the bearer token is not signed with {ALGORITHM}"
    return "the bearer token is invalid"


def _principal(claims: dict[str, Any]) -> Principal:
    try:
        user_id = uuid.UUID(str(claims["sub"]))
    except ValueError as error:
        raise Unauthorized("the bearer token's subject is not a user id") from error
    email = claims["email"]
    if not isinstance(email, str):
        raise Unauthorized("the bearer token's email is not a string")
    try:
        role = Role(claims["role"])
    except ValueError as error:
        raise Unauthorized("the bearer token's role is not one of customer, admin") from error
    return Principal(user_id, email, role)
