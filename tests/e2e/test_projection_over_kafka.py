"""A CQRS read model fed from Kafka by the service kit, in the reading service's database."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from evp.events import EmailChanged, UserRegistered
from evp.eventstore.postgres import PostgresRecorder
from evp.service import Service, ServiceSettings
from evp.service.testing import RunningService, running_service
from tests.eventstore.sample_projections import MIGRATIONS, MIGRATIONS_COMPONENT, UsersByEmail

USERS = 5

users = Service("users", publishes=(UserRegistered, EmailChanged))
views = Service("views")
views.migrate(MIGRATIONS_COMPONENT, MIGRATIONS)
views.projection(UsersByEmail(), source="kafka")


def _projected(service: RunningService) -> float:
    """Events the projection's group took (handled or acknowledged as duplicates)."""
    return sum(
        sample.value
        for metric in service.runtime.metrics.registry.collect()
        if metric.name == "evp_events_handled"
        for sample in metric.samples
        if sample.name == "evp_events_handled_total"
    )


async def test_read_model_from_kafka_is_exact_and_survives_redelivery(
    settings_for: Callable[[str], ServiceSettings],
) -> None:
    """Every user's row has the changed email once, even after everything is redelivered."""
    async with (
        running_service(users, settings_for("users")) as source,
        running_service(views, settings_for("views")) as reader,
    ):
        expected = {}
        for index in range(USERS):
            registered = UserRegistered.new(
                user_id=uuid.uuid4(),
                email=f"old{index}@example.com",
                display_name="U",
                source="users",
            )
            changed = EmailChanged.new(
                user_id=registered.user_id,
                previous_email=registered.email,
                new_email=f"new{index}@example.com",
                source="users",
                caused_by=registered,
            )
            await source.runtime.store.append(
                str(registered.user_id), [registered, changed], expected_version=0
            )
            expected[registered.user_id] = (changed.new_email, 1)
        await reader.wait_for(lambda: _projected(reader) == 2 * USERS, timeout=30)
        first = await _rows(reader.runtime.recorder)
        async with source.runtime.store.transaction() as transaction:
            await transaction.reset_consumer(source.runtime.relay.name)  # lost its progress
        await reader.wait_for(lambda: _projected(reader) == 4 * USERS, timeout=30)
        again = await _rows(reader.runtime.recorder)
    assert first == expected
    assert again == expected


async def _rows(recorder: PostgresRecorder) -> dict[uuid.UUID, tuple[str, int]]:
    async with recorder.pool.acquire() as connection:
        rows = await connection.fetch("SELECT user_id, email, changes FROM users_by_email")
    return {row["user_id"]: (row["email"], row["changes"]) for row in rows}
