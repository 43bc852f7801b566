"""Relayed events carry exactly the headers of events published directly."""

from __future__ import annotations

import datetime
import uuid

from evp.events import EmailChanged, UserRegistered
from evp.eventstore.headers import event_headers
from evp.eventstore.recorder import StoredEvent
from evp.messaging import headers as published


def _stored(event: UserRegistered | EmailChanged) -> StoredEvent:
    envelope = event.envelope
    return StoredEvent(
        position=1,
        stream_id=str(event.user_id),
        stream_version=1,
        event_id=envelope.event_id,
        event_type=event.FULL_NAME,
        correlation_id=envelope.correlation_id,
        causation_id=envelope.causation_id,
        recorded_at=datetime.datetime.now(datetime.UTC),
        data=b"",
    )


def test_relayed_headers_equal_published_ones() -> None:
    """With and without a cause, the relay's headers are the publisher's, byte for byte."""
    registered = UserRegistered.new(
        user_id=uuid.uuid4(), email="a@example.com", display_name="Ada", source="users"
    )
    changed = EmailChanged.new(
        user_id=registered.user_id,
        previous_email="a@example.com",
        new_email="b@example.com",
        source="users",
        caused_by=registered,
    )
    for event in (registered, changed):
        assert event_headers(_stored(event)) == list(published.event_headers(event))
