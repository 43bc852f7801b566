"""Bearer tokens an attacker could present: a real token's claims under the wrong signature,
no signature, or past their expiry.

The expired one is signed with the users service's real key, read from its running
runtime (:func:`shop.users.startup.signing_keys_of`), so expiry is the only thing wrong
with it; :func:`reissued` signs a valid one the same way, to show that it would pass.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from evp.service.inprocess import RunningService
from evp.web.auth import ALGORITHM, Role, TokenIssuer
from shop.users.startup import signing_keys_of

__all__ = [
    "bearer",
    "claims_of",
    "expired",
    "header_of",
    "keyed_with_the_public_key",
    "reissued",
    "signed_with_another_key",
    "token_in",
    "unsigned",
]


def bearer(token: str) -> dict[str, str]:
    """The Authorization header carrying ``token``."""
    return {"Authorization": f"Bearer {token}"}


def token_in(headers: dict[str, str]) -> str:
    """The token an Authorization header carries."""
    return headers["Authorization"].removeprefix("Bearer ")


def claims_of(headers: dict[str, str]) -> dict[str, Any]:
    """The claims of the token in ``headers``, unverified."""
    claims: dict[str, Any] = jwt.decode(token_in(headers), options={"verify_signature": False})
    return claims


def header_of(headers: dict[str, str]) -> dict[str, Any]:
    """The JOSE header of the token in ``headers``, unverified."""
    return jwt.get_unverified_header(token_in(headers))


def signed_with_another_key(claims: dict[str, Any], *, kid: str | None) -> str:
    """``claims`` signed with a fresh Ed25519 key, naming ``kid`` (``None``: a made-up id
    the users service never published)."""
    key = Ed25519PrivateKey.generate()
    named = kid if kid is not None else uuid.uuid4().hex
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": named})


def unsigned(claims: dict[str, Any], *, kid: str) -> str:
    """``claims`` under ``alg: none``, written by hand: ``header.payload.`` with no signature."""
    header = {"alg": "none", "typ": "JWT", "kid": kid}
    return f"{_segment(header)}.{_segment(claims)}."


def keyed_with_the_public_key(claims: dict[str, Any], *, kid: str, users: RunningService) -> str:
    """``claims`` under HS256 keyed with the users service's public key (PEM): the
    algorithm-confusion attack on verifiers that let the token pick the algorithm."""
    public = signing_keys_of(users.runtime).current.private_key.public_key()
    secret = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{_segment({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{_segment(claims)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def expired(users: RunningService, claims: dict[str, Any]) -> str:
    """A token for ``claims``' user, signed with the users service's own key, that expired
    an hour ago (well past the verifiers' leeway)."""
    two_hours_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=2)
    return _issuer(users, clock=lambda: two_hours_ago).issue(*_subject(claims)).access_token


def reissued(users: RunningService, claims: dict[str, Any]) -> str:
    """A token for ``claims``' user, signed now the way :func:`expired` signs (the control)."""
    now = datetime.datetime.now(datetime.UTC)
    return _issuer(users, clock=lambda: now).issue(*_subject(claims)).access_token


def _issuer(users: RunningService, *, clock: Callable[[], datetime.datetime]) -> TokenIssuer:
    settings = users.runtime.settings
    return TokenIssuer(
        signing_keys_of(users.runtime),
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        expires_in=datetime.timedelta(hours=1),
        clock=clock,
    )


def _subject(claims: dict[str, Any]) -> tuple[uuid.UUID, str, Role]:
    return uuid.UUID(claims["sub"]), claims["email"], Role(claims["role"])


def _segment(part: dict[str, Any]) -> str:
    return _b64(json.dumps(part, separators=(",", ":")).encode())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
