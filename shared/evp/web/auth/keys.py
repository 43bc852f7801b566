"""The users service's signing keys: Ed25519, named by their RFC 7638 thumbprint.

Only the users service holds the private keys; everyone else sees the public halves in
the JWKS document (:meth:`KeySet.jwks_document`). A key set holds the key that signs now
and, during a rotation, older keys that still verify tokens already issued.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

__all__ = ["ALGORITHM", "KeySet", "SigningKey"]

ALGORITHM = "EdDSA"
"""The JWS algorithm of every token: Ed25519 signatures are small, fast and deterministic."""


class SigningKey:
    """An Ed25519 private key and its key id (``kid``)."""

    def __init__(self, private_key: Ed25519PrivateKey, kid: str | None = None) -> None:
        self.private_key = private_key
        self.kid = kid if kid is not None else _thumbprint(self.public_jwk(kid=""))

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: bytes, kid: str | None = None) -> SigningKey:
        """A key from its unencrypted PKCS#8 PEM."""
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"expected an Ed25519 private key, found {type(key).__name__}")
        return cls(key, kid)

    @classmethod
    def load(cls, path: Path | str) -> SigningKey:
        """A key from a PEM file."""
        return cls.from_pem(Path(path).read_bytes())

    def to_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def save(self, path: Path | str) -> None:
        """Write the PEM to ``path``, readable by its owner only."""
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(self.to_pem())

    def public_jwk(self, *, kid: str | None = None) -> dict[str, Any]:
        """The public half as a JWK, with its ``kid``, algorithm and use."""
        jwk: dict[str, Any] = OKPAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        jwk.update(kid=self.kid if kid is None else kid, alg=ALGORITHM, use="sig")
        return jwk

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r})"


class KeySet:
    """The key that signs (the first) and older keys still published for verification."""

    def __init__(self, keys: Sequence[SigningKey]) -> None:
        if not keys:
            raise ValueError("a key set needs at least one key")
        kids = [key.kid for key in keys]
        if len(set(kids)) != len(kids):
            raise ValueError(f"key ids must be unique: {kids}")
        self.keys = tuple(keys)

    @classmethod
    def generate(cls) -> KeySet:
        """A set of one fresh key."""
        return cls([SigningKey.generate()])

    @property
    def current(self) -> SigningKey:
        """The key new tokens are signed with."""
        return self.keys[0]

    def find(self, kid: str) -> SigningKey | None:
        """The key named ``kid``, if the set holds it."""
        return next((key for key in self.keys if key.kid == kid), None)

    def jwks_document(self) -> dict[str, Any]:
        """The public keys as a JWKS document (``GET /.well-known/jwks.json``)."""
        return {"keys": [key.public_jwk() for key in self.keys]}


def _thumbprint(jwk: dict[str, Any]) -> str:
    # RFC 7638: the required members only, sorted, without whitespace, hashed with SHA-256.
    required = {name: jwk[name] for name in ("crv", "kty", "x")}
    canonical = json.dumps(required, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
