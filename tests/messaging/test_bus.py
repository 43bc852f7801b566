"""The event bus's declarations and lifecycle."""

from __future__ import annotations

import pytest

from evp.events import OrderCancelled, OrderPlaced
from evp.messaging import (
    BusStateError,
    EventBus,
    InvalidSubscription,
    MessageContext,
    MessagingSettings,
)

from .samples import order_placed


async def _ignore(event: object, context: MessageContext) -> None:
    """A handler that does nothing."""


def test_an_event_type_goes_to_one_handler_per_group() -> None:
    """Declaring a second handler for an event type in the same group is refused."""
    bus = EventBus(MessagingSettings(None), service="orders")
    bus.subscriber(group="g", events=(OrderPlaced,))(_ignore)
    with pytest.raises(InvalidSubscription, match=r"shop\.orders\.OrderPlaced"):
        bus.subscriber(group="g", events=(OrderPlaced, OrderCancelled))(_ignore)


def test_other_groups_may_take_the_same_event_type() -> None:
    """Different groups each get every event of a type."""
    bus = EventBus(MessagingSettings(None), service="orders")
    bus.subscriber(group="a", events=(OrderPlaced,))(_ignore)
    bus.subscriber(group="b", events=(OrderPlaced,))(_ignore)


def test_a_subscriber_must_declare_an_event_type() -> None:
    """A subscriber with no event types is refused."""
    bus = EventBus(MessagingSettings(None), service="orders")
    with pytest.raises(InvalidSubscription):
        bus.subscriber(group="g", events=())(_ignore)


def test_the_decorator_returns_the_handler_itself() -> None:
    """Declaring a handler leaves the function callable as it was (e.g. in unit tests)."""
    bus = EventBus(MessagingSettings(None), service="orders")
    assert bus.subscriber(group="g", events=(OrderPlaced,))(_ignore) is _ignore


async def test_publishing_before_start_is_refused() -> None:
    """A bus that is not running refuses to publish."""
    bus = EventBus(MessagingSettings(None), service="orders")
    with pytest.raises(BusStateError):
        await bus.publish(order_placed())


async def test_subscribers_are_declared_before_start(
    messaging_settings: MessagingSettings,
) -> None:
    """Declaring a subscriber on a running bus is refused."""
    async with EventBus(messaging_settings, service="orders") as bus:
        with pytest.raises(BusStateError):
            bus.subscriber(group="late", events=(OrderPlaced,))(_ignore)


async def test_a_bus_can_be_started_again_after_a_stop(
    messaging_settings: MessagingSettings,
) -> None:
    """Stopping and starting a bus again publishes as before."""
    bus = EventBus(messaging_settings, service="orders", publishes=(OrderPlaced,))
    async with bus:
        await bus.publish(order_placed())
    async with bus:
        published = await bus.publish(order_placed())
    assert published.delivery.offset >= 0
