"""Fixtures of the inventory's tests: Kafka, the registry, fresh databases, tokens."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import pytest

from evp.messaging import EventBus, MessagingSettings
from evp.service import ServiceSettings
from evp.service.testing import RunningService, running_service
from evp.web import KeySet, Role, TokenIssuer, TokenVerifier
from shop.inventory.app import service

__all__ = [
    "Headers",
    "StartInventory",
    "admin",
    "bus",
    "customer",
    "inventory",
    "keys",
]

Headers = dict[str, str]
StartInventory = Callable[..., AbstractAsyncContextManager[RunningService]]


@pytest.fixture
def keys() -> KeySet:
    """The users service's signing keys, as far as these tests are concerned."""
    return KeySet.generate()


def _bearer(keys: KeySet, role: Role) -> Headers:
    issuer = TokenIssuer(keys, issuer="evp-users", audience="evp")
    token = issuer.issue(uuid.uuid4(), f"{role.value}@example.com", role).access_token
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin(keys: KeySet) -> Headers:
    """Headers of a signed-in admin."""
    return _bearer(keys, Role.ADMIN)


@pytest.fixture
def customer(keys: KeySet) -> Headers:
    """Headers of a signed-in customer."""
    return _bearer(keys, Role.CUSTOMER)


@pytest.fixture
def inventory(settings_for: Callable[[str], ServiceSettings], keys: KeySet) -> StartInventory:
    """Starts the inventory service on a fresh database (``assigned=False``: do not wait
    for its consumers, for tests of routes alone)."""
    verifier = TokenVerifier.local(keys, issuer="evp-users", audience="evp")

    def start(*, assigned: bool = True) -> AbstractAsyncContextManager[RunningService]:
        return running_service(
            service, settings_for("inventory"), verifier=verifier, assigned=assigned
        )

    return start


@pytest.fixture
async def bus(messaging_settings: MessagingSettings) -> AsyncIterator[EventBus]:
    """A bus of the test's own, publishing what orders would, on the test's topics."""
    async with EventBus(messaging_settings, service="test") as test_bus:
        yield test_bus
