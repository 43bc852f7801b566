"""Aggregates and their repository: the brief's user who registers, then changes email."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from evp.events import EmailChanged, OrderCancelled, UserRegistered
from evp.events.orders import CancellationReason
from evp.eventstore import (
    AggregateNotFound,
    ConcurrencyError,
    EventStore,
    Repository,
    UnexpectedEvent,
)

from .users import EmailUnchanged, User


@pytest.fixture
def users(store: EventStore[Any]) -> Repository[User]:
    """A repository of users over each recorder in turn."""
    return Repository(store, User)


async def registered_user(users: Repository[User], email: str = "ada@example.com") -> User:
    """A user registered and saved."""
    user = User.register(uuid.uuid4(), email, "Ada")
    await users.save(user)
    return user


def test_a_command_emits_an_event_and_updates_the_state() -> None:
    """Changing the email triggers EmailChanged and the new address shows at once."""
    user = User.register(uuid.uuid4(), "ada@example.com", "Ada")
    user.change_email("ada@lovelace.org")
    assert user.email == "ada@lovelace.org"
    assert [type(e) for e in user.pending_events] == [UserRegistered, EmailChanged]
    assert user.version == 2


def test_a_broken_invariant_emits_nothing() -> None:
    """Changing to the current address is refused and leaves no pending event."""
    user = User.register(uuid.uuid4(), "ada@example.com", "Ada")
    with pytest.raises(EmailUnchanged):
        user.change_email("ada@example.com")
    assert len(user.pending_events) == 1


async def test_the_current_state_is_the_replay_of_the_stream(users: Repository[User]) -> None:
    """A reloaded user has the email of its last EmailChanged and its stream's version."""
    user = await registered_user(users)
    user.change_email("ada@lovelace.org")
    await users.save(user)
    loaded = await users.get(user.id)
    assert (loaded.email, loaded.display_name, loaded.version) == ("ada@lovelace.org", "Ada", 2)
    assert loaded.pending_events == ()


async def test_an_older_version_is_loaded_on_request(users: Repository[User]) -> None:
    """Loading at version 1 gives the user as registered, before the email change."""
    user = await registered_user(users)
    user.change_email("ada@lovelace.org")
    await users.save(user)
    assert (await users.get(user.id, version=1)).email == "ada@example.com"


async def test_the_user_is_loaded_as_it_was_at_a_point_in_time(
    users: Repository[User], store: EventStore[Any]
) -> None:
    """Time travel: at the registration's recorded time the old email is current."""
    user = await registered_user(users)
    user.change_email("ada@lovelace.org")
    await users.save(user)
    registered_at = (await store.history(user.id))[0].recorded_at
    assert (await users.get(user.id, at=registered_at)).email == "ada@example.com"


async def test_saving_a_stale_aggregate_raises_a_concurrency_error(
    users: Repository[User],
) -> None:
    """Two copies change the email; the second save conflicts at version 1."""
    user = await registered_user(users)
    first, second = await users.get(user.id), await users.get(user.id)
    first.change_email("one@example.com")
    second.change_email("two@example.com")
    await users.save(first)
    with pytest.raises(ConcurrencyError) as raised:
        await users.save(second)
    assert (raised.value.expected_version, raised.value.actual_version) == (1, 2)


async def test_registering_an_existing_id_conflicts(users: Repository[User]) -> None:
    """A second registration of the same id finds the stream taken."""
    user = await registered_user(users)
    again = User.register(uuid.UUID(user.id), "eve@example.com", "Eve")
    with pytest.raises(ConcurrencyError):
        await users.save(again)


async def test_a_missing_aggregate_is_not_found(users: Repository[User]) -> None:
    """Loading an id with no events raises, naming the aggregate type and id."""
    with pytest.raises(AggregateNotFound) as raised:
        await users.get("nobody")
    assert raised.value.fields == {"aggregate_type": "User", "aggregate_id": "nobody"}


async def test_saving_nothing_writes_nothing(
    users: Repository[User], store: EventStore[Any]
) -> None:
    """A loaded, unchanged aggregate saves as a no-op."""
    user = await registered_user(users)
    assert await users.save(await users.get(user.id)) == 1
    assert await store.recorder.last_position() == 1


async def test_a_foreign_event_in_the_stream_is_refused(
    users: Repository[User], store: EventStore[Any]
) -> None:
    """Replaying an event the aggregate does not apply raises, naming it."""
    cancelled = OrderCancelled.new(
        order_id=uuid.uuid4(), reason=CancellationReason.TIMED_OUT, source="orders"
    )
    await store.append("x", [cancelled], expected_version=0)
    with pytest.raises(UnexpectedEvent, match="OrderCancelled"):
        await users.get("x")
