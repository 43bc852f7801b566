"""Keys, tokens and the sample app's client for the web tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from evp.metrics import ServiceMetrics
from evp.web import KeySet, Role, TokenIssuer, TokenVerifier
from tests.web.sample import AUDIENCE, ISSUER, sample_app


@pytest.fixture(scope="session")
def keys() -> KeySet:
    """The users service's key set (one Ed25519 key)."""
    return KeySet.generate()


@pytest.fixture
def issuer(keys: KeySet) -> TokenIssuer:
    """Issues tokens the sample app accepts."""
    return TokenIssuer(keys, issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture
def verifier(keys: KeySet) -> TokenVerifier:
    """Verifies tokens against the local key set."""
    return TokenVerifier.local(keys, issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture
def metrics() -> ServiceMetrics:
    """The sample app's metrics."""
    return ServiceMetrics("sample")


@pytest.fixture
def client(verifier: TokenVerifier, metrics: ServiceMetrics) -> Iterator[TestClient]:
    """A client of the sample app."""
    with TestClient(sample_app(verifier, metrics=metrics)) as client:
        yield client


def bearer(issuer: TokenIssuer, role: Role = Role.CUSTOMER) -> dict[str, str]:
    """An Authorization header for a fresh user with ``role``."""
    token = issuer.issue(uuid.uuid4(), f"{role.value}@shop.test", role)
    return {"Authorization": f"Bearer {token.access_token}"}
