"""The recorder conformance suite, written once and run against every recorder.

A subclass provides the ``recorder`` fixture; each layer's promises are tested in turn:
streams with an expected version, gap-free global positions, and tracking transactions.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import pytest

from evp.eventstore import (
    ConcurrencyError,
    DuplicateEventError,
    NewEvent,
    StoredEvent,
    TrackingRecorder,
)

REGISTERED = "shop.users.UserRegistered"
CHANGED = "shop.users.EmailChanged"


def new_events(count: int, *, event_type: str = REGISTERED) -> list[NewEvent]:
    """``count`` events with fresh ids and distinct placeholder frames."""
    return [
        NewEvent(
            event_id=uuid.uuid4(),
            event_type=event_type,
            data=f"frame-{i}".encode(),
            correlation_id=uuid.uuid4(),
        )
        for i in range(count)
    ]


def positions(events: list[StoredEvent]) -> list[int]:
    """The global positions of ``events``."""
    return [event.position for event in events]


class Boom(Exception):
    """Raised inside a transaction to make it roll back."""


class RecorderContract:
    """Promises every :class:`~evp.eventstore.TrackingRecorder` keeps."""

    @pytest.fixture
    def recorder(self) -> TrackingRecorder[Any]:
        """The recorder under test; subclasses override this."""
        raise NotImplementedError

    # -- streams ------------------------------------------------------------------------

    async def test_a_new_stream_reads_back_in_version_order(
        self, recorder: TrackingRecorder[Any]
    ) -> None:
        """Three events appended at version 0 read back as versions 1 to 3, frames intact."""
        events = new_events(3)
        assert await recorder.append("s", 0, events) == 3
        stored = await recorder.read_stream("s")
        assert [e.stream_version for e in stored] == [1, 2, 3]
        assert [e.data for e in stored] == [e.data for e in events]

    async def test_stored_metadata_matches_what_was_appended(
        self, recorder: TrackingRecorder[Any]
    ) -> None:
        """Event id, type, correlation and causation ids are kept beside the frame."""
        event = NewEvent(uuid.uuid4(), CHANGED, b"frame", uuid.uuid4(), uuid.uuid4())
        await recorder.append("s", 0, [event])
        (stored,) = await recorder.read_stream("s")
        assert (stored.stream_id, stored.event_id, stored.event_type) == (
            "s",
            event.event_id,
            CHANGED,
        )
        assert (stored.correlation_id, stored.causation_id) == (
            event.correlation_id,
            event.causation_id,
        )
        assert stored.recorded_at.tzinfo is not None

    async def test_the_message_key_reads_back(self, recorder: TrackingRecorder[Any]) -> None:
        """An event's message key is kept beside it, alone or in a batch; none when absent."""
        alone = NewEvent(uuid.uuid4(), REGISTERED, b"frame", uuid.uuid4(), key="user-1")
        batch = [NewEvent(uuid.uuid4(), CHANGED, b"frame", uuid.uuid4(), key="user-2")]
        await recorder.append("a", 0, [alone])
        await recorder.append("b", 0, [*batch, *new_events(1)])
        assert [e.key for e in await recorder.read_stream("a")] == ["user-1"]
        assert [e.key for e in await recorder.read_stream("b")] == ["user-2", None]
        assert [e.key for e in await recorder.read_all()] == ["user-1", "user-2", None]

    async def test_appends_continue_the_stream(self, recorder: TrackingRecorder[Any]) -> None:
        """Appending at the current version continues the version numbers."""
        await recorder.append("s", 0, new_events(2))
        assert await recorder.append("s", 2, new_events(2)) == 4
        assert await recorder.stream_version("s") == 4

    async def test_a_stale_expected_version_raises_a_concurrency_error(
        self, recorder: TrackingRecorder[Any]
    ) -> None:
        """The error names the stream, the version expected and the version found."""
        await recorder.append("s", 0, new_events(2))
        with pytest.raises(ConcurrencyError) as raised:
            await recorder.append("s", 1, new_events(1))
        error = raised.value
        assert (error.stream_id, error.expected_version, error.actual_version) == ("s", 1, 2)

    async def test_an_expected_version_ahead_of_the_stream_is_refused(
        self, recorder: TrackingRecorder[Any]
    ) -> None:
        """Appending after a version the stream has not reached would leave a hole."""
        await recorder.append("s", 0, new_events(1))
        with pytest.raises(ConcurrencyError) as raised:
            await recorder.append("s", 3, new_events(1))
        assert (raised.value.expected_version, raised.value.actual_version) == (3, 1)
        with pytest.raises(ConcurrencyError):
            await recorder.append("s", 2, new_events(3))
        assert await recorder.stream_version("s") == 1

    async def test_two_concurrent_appenders_exactly_one_wins(
        self, recorder: TrackingRecorder[Any]
    ) -> None:
        """Of two appends at the same expected version, one succeeds and one conflicts."""
        results = await asyncio.gather(
            recorder.append("s", 0, new_events(1)),
            recorder.append("s", 0, new_events(1)),
            return_exceptions=True,
        )
        assert sorted(type(r).__name__ for r in results) == ["ConcurrencyError", "int"]
        assert await recorder.stream_version("s") == 1

    async def test_a_duplicate_event_id_is_refused(self, recorder: TrackingRecorder[Any]) -> None:
        """An event id already stored in another stream raises, naming the id."""
        (event,) = new_events(1)
        await recorder.append("a", 0, [event])
        with pytest.raises(DuplicateEventError) as raised:
            await recorder.append("b", 0, [event])
        assert raised.value.event_id == event.event_id

    async def test_a_failed_append_stores_none_of_its_events(
        self, recorder: TrackingRecorder[Any]
    ) -> None:
        """A batch whose third event repeats an id stores nothing at all."""
        (taken,) = new_events(1)
        await recorder.append("a", 0, [taken])
        with pytest.raises(DuplicateEventError):
            await recorder.append("b", 0, [*new_events(2), taken])
        assert await recorder.read_stream("b") == []
        assert await recorder.last_position() == 1

    async def test_an_unknown_stream_is_empty_at_version_zero(
        self, recorder: TrackingRecorder[Any]
    ) -> None:
        """Reading a stream nobody wrote returns nothing, at version 0."""
        assert await recorder.read_stream("nobody") == []
        assert await recorder.stream_version("nobody") == 0

    async def test_appending_no_events_changes_nothing(
        self, recorder: TrackingRecorder[Any]
    ) -> None:
        """An empty append returns the expected version and stores nothing."""
        assert await recorder.append("s", 0, []) == 0
        assert await recorder.last_position() == 0

    async def test_a_stream_reads_up_to_a_version(self, recorder: TrackingRecorder[Any]) -> None:
        """``to_version`` cuts the stream after that version."""
        await recorder.append("s", 0, new_events(5))
        stored = await recorder.read_stream("s", to_version=2)
        assert [e.stream_version for e in stored] == [1, 2]

    async def test_a_stream_reads_as_it_was_at_a_point_in_time(
        self, recorder: TrackingRecorder[Any]
    ) -> None:
        """``until`` keeps the events recorded at or before that time."""
        await recorder.append("s", 0, new_events(2))
        await recorder.append("s", 2, new_events(1))
        first_commit = (await recorder.read_stream("s"))[0].recorded_at
        stored = await recorder.read_stream("s", until=first_commit)
        assert [e.stream_version for e in stored] == [1, 2]

    async def test_frames_read_like_the_stream_with_only_types_and_data(
        self, recorder: TrackingRecorder[Any]
    ) -> None:
        """The lean read for replays honours the same limits as the full one."""
        await recorder.append("s", 0, new_events(2))
        await recorder.append("s", 2, new_events(1, event_type=CHANGED))
        stored = await recorder.read_stream("s")
        assert await recorder.read_frames("s") == [(e.event_type, e.data) for e in stored]
        assert len(await recorder.read_frames("s", to_version=1)) == 1
        assert len(await recorder.read_frames("s", until=stored[0].recorded_at)) == 2

    async def test_writer_schemas_are_kept_by_id(self, recorder: TrackingRecorder[Any]) -> None:
        """Recorded schemas come back by id; recording an id again keeps the first text."""
        await recorder.record_schemas({1: '"string"', 2: '"long"'})
        await recorder.record_schemas({1: '"int"'})
        assert await recorder.schemas() == {1: '"string"', 2: '"long"'}

    # -- positions ----------------------------------------------------------------------

    async def test_positions_number_events_across_streams_in_order(
        self, recorder: TrackingRecorder[Any]
    ) -> None:
        """Events of several streams get positions 1, 2, 3, ... in the order appended."""
        await recorder.append("a", 0, new_events(2))
        await recorder.append("b", 0, new_events(1))
        await recorder.append("a", 2, new_events(1))
        stored = await recorder.read_all()
        assert positions(stored) == [1, 2, 3, 4]
        assert [e.stream_id for e in stored] == ["a", "a", "b", "a"]
        assert await recorder.last_position() == 4

    async def test_read_all_pages_after_a_position(self, recorder: TrackingRecorder[Any]) -> None:
        """``after`` and ``limit`` select a page of the global order."""
        await recorder.append("a", 0, new_events(6))
        assert positions(await recorder.read_all(2, limit=3)) == [3, 4, 5]

    async def test_read_all_filters_by_event_type(self, recorder: TrackingRecorder[Any]) -> None:
        """Only events of the types asked for are returned, with their own positions."""
        await recorder.append("a", 0, new_events(1))
        await recorder.append("a", 1, new_events(1, event_type=CHANGED))
        stored = await recorder.read_all(event_types=[CHANGED])
        assert positions(stored) == [2]

    async def test_a_rolled_back_append_leaves_no_gap(
        self, recorder: TrackingRecorder[Any]
    ) -> None:
        """Positions given to a transaction that rolled back are given out again."""

        async def doomed() -> None:
            async with recorder.transaction() as transaction:
                await transaction.append("a", 0, new_events(3))
                raise Boom

        with pytest.raises(Boom):
            await doomed()
        await recorder.append("b", 0, new_events(1))
        assert positions(await recorder.read_all()) == [1]

    async def test_concurrent_appenders_leave_no_gaps(
        self, recorder: TrackingRecorder[Any]
    ) -> None:
        """Many appenders, some conflicting, still number the stored events 1..n."""

        async def append(stream: str) -> None:
            for _ in range(3):
                version = await recorder.stream_version(stream)
                with contextlib.suppress(ConcurrencyError):
                    await recorder.append(stream, version, new_events(2))

        await asyncio.gather(*(append(f"s{i % 4}") for i in range(8)))
        stored = await recorder.read_all()
        assert positions(stored) == list(range(1, len(stored) + 1))
        for stream in {e.stream_id for e in stored}:
            versions = [e.stream_version for e in stored if e.stream_id == stream]
            assert versions == list(range(1, len(versions) + 1))

    # -- tracking -----------------------------------------------------------------------

    async def test_a_transaction_commits_its_appends_together(
        self, recorder: TrackingRecorder[Any]
    ) -> None:
        """Appends to two streams in one transaction are stored once it ends."""
        async with recorder.transaction() as transaction:
            assert await transaction.append("a", 0, new_events(2)) == 2
            await transaction.append("b", 0, new_events(1))
            await transaction.save_checkpoint("relay", 7)
        assert [e.stream_id for e in await recorder.read_all()] == ["a", "a", "b"]
        assert await recorder.checkpoint("relay") == 7

    async def test_a_failing_transaction_records_nothing(
        self, recorder: TrackingRecorder[Any]
    ) -> None:
        """An exception in the block discards its appends, marks and checkpoint."""
        event_id = uuid.uuid4()

        async def doomed() -> None:
            async with recorder.transaction() as transaction:
                await transaction.append("a", 0, new_events(1))
                await transaction.mark_processed("handler", event_id)
                await transaction.save_checkpoint("handler", 3)
                raise Boom

        with pytest.raises(Boom):
            await doomed()
        assert await recorder.read_all() == []
        assert not await recorder.is_processed("handler", event_id)
        assert await recorder.checkpoint("handler") == 0

    async def test_a_conflict_at_commit_discards_the_whole_transaction(
        self, recorder: TrackingRecorder[Any]
    ) -> None:
        """One stale append raises on commit, and the other append and the mark are lost."""
        await recorder.append("b", 0, new_events(1))
        event_id = uuid.uuid4()

        async def stale() -> None:
            async with recorder.transaction() as transaction:
                await transaction.append("a", 0, new_events(1))
                await transaction.append("b", 0, new_events(1))
                await transaction.mark_processed("handler", event_id)

        with pytest.raises(ConcurrencyError) as raised:
            await stale()
        assert (raised.value.stream_id, raised.value.actual_version) == ("b", 1)
        assert await recorder.stream_version("a") == 0
        assert not await recorder.is_processed("handler", event_id)

    async def test_a_transaction_chains_appends_to_one_stream(
        self, recorder: TrackingRecorder[Any]
    ) -> None:
        """A second append to a stream in the same transaction must follow the first."""
        async with recorder.transaction() as transaction:
            await transaction.append("a", 0, new_events(2))
            with pytest.raises(ConcurrencyError):
                await transaction.append("a", 0, new_events(1))
            assert await transaction.append("a", 2, new_events(1)) == 3
        assert await recorder.stream_version("a") == 3

    async def test_an_event_is_marked_processed_once(self, recorder: TrackingRecorder[Any]) -> None:
        """The first mark returns True; a later transaction's mark returns False."""
        event_id = uuid.uuid4()
        async with recorder.transaction() as transaction:
            assert await transaction.mark_processed("handler", event_id)
        async with recorder.transaction() as transaction:
            assert not await transaction.mark_processed("handler", event_id)
        assert await recorder.is_processed("handler", event_id)

    async def test_marks_are_kept_per_consumer(self, recorder: TrackingRecorder[Any]) -> None:
        """One consumer's mark does not count for another consumer."""
        event_id = uuid.uuid4()
        async with recorder.transaction() as transaction:
            await transaction.mark_processed("one", event_id)
            assert await transaction.mark_processed("two", event_id)

    async def test_a_concurrent_mark_waits_for_the_first_and_loses(
        self, recorder: TrackingRecorder[Any]
    ) -> None:
        """While one transaction holds a mark, a second marker waits, then gets False."""
        event_id = uuid.uuid4()
        marked, release = asyncio.Event(), asyncio.Event()

        async def first() -> None:
            async with recorder.transaction() as transaction:
                assert await transaction.mark_processed("handler", event_id)
                marked.set()
                await release.wait()

        async def second() -> bool:
            await marked.wait()
            async with recorder.transaction() as transaction:
                won: bool = await transaction.mark_processed("handler", event_id)
            return won

        holder, waiter = asyncio.create_task(first()), asyncio.create_task(second())
        await marked.wait()
        await asyncio.sleep(0.05)
        assert not waiter.done()
        release.set()
        await holder
        assert await waiter is False

    async def test_a_rolled_back_mark_lets_the_event_be_processed_again(
        self, recorder: TrackingRecorder[Any]
    ) -> None:
        """A handler that failed has not processed the event."""
        event_id = uuid.uuid4()

        async def doomed() -> None:
            async with recorder.transaction() as transaction:
                await transaction.mark_processed("handler", event_id)
                raise Boom

        with pytest.raises(Boom):
            await doomed()
        async with recorder.transaction() as transaction:
            assert await transaction.mark_processed("handler", event_id)

    async def test_a_checkpoint_is_locked_until_its_transaction_ends(
        self, recorder: TrackingRecorder[Any]
    ) -> None:
        """A second reader of a consumer's checkpoint waits, then sees the first's save."""
        locked, release = asyncio.Event(), asyncio.Event()

        async def first() -> None:
            async with recorder.transaction() as transaction:
                assert await transaction.checkpoint("relay") == 0
                locked.set()
                await release.wait()
                await transaction.save_checkpoint("relay", 5)

        async def second() -> int:
            await locked.wait()
            async with recorder.transaction() as transaction:
                position: int = await transaction.checkpoint("relay")
            return position

        holder, waiter = asyncio.create_task(first()), asyncio.create_task(second())
        await locked.wait()
        await asyncio.sleep(0.05)
        assert not waiter.done()
        release.set()
        await holder
        assert await waiter == 5

    async def test_resetting_a_consumer_forgets_its_progress(
        self, recorder: TrackingRecorder[Any]
    ) -> None:
        """After a reset the checkpoint is 0 and processed events may be processed again."""
        event_id = uuid.uuid4()
        async with recorder.transaction() as transaction:
            await transaction.mark_processed("projection", event_id)
            await transaction.save_checkpoint("projection", 9)
        async with recorder.transaction() as transaction:
            await transaction.reset_consumer("projection")
            assert await transaction.checkpoint("projection") == 0
            assert await transaction.mark_processed("projection", event_id)
        assert await recorder.checkpoint("projection") == 0
        assert await recorder.is_processed("projection", event_id)

    # -- parked streams -----------------------------------------------------------------

    async def test_a_parked_stream_is_kept_once_its_transaction_commits(
        self, recorder: TrackingRecorder[Any]
    ) -> None:
        """The transaction sees its park at once; others see it, fields intact, on commit."""
        async with recorder.transaction() as transaction:
            await transaction.park(
                "relay", "s", position=4, event_type=REGISTERED, reason="too large"
            )
            assert [p.stream_id for p in await transaction.parked_streams("relay")] == ["s"]
            assert await recorder.parked_streams("relay") == []
        (parked,) = await recorder.parked_streams("relay")
        assert (parked.stream_id, parked.position, parked.event_type, parked.reason) == (
            "s",
            4,
            REGISTERED,
            "too large",
        )
        assert parked.parked_at.tzinfo is not None

    async def test_a_rolled_back_park_is_forgotten(self, recorder: TrackingRecorder[Any]) -> None:
        """A park in a transaction that failed leaves the stream unparked."""

        async def doomed() -> None:
            async with recorder.transaction() as transaction:
                await transaction.park("relay", "s", position=1, event_type=CHANGED, reason="x")
                raise Boom

        with pytest.raises(Boom):
            await doomed()
        assert await recorder.parked_streams("relay") == []

    async def test_parking_again_moves_the_stream_and_unparking_forgets_it(
        self, recorder: TrackingRecorder[Any]
    ) -> None:
        """The latest park of a stream wins; an unpark removes it."""
        async with recorder.transaction() as transaction:
            await transaction.park("relay", "s", position=1, event_type=CHANGED, reason="a")
        async with recorder.transaction() as transaction:
            await transaction.park("relay", "s", position=3, event_type=CHANGED, reason="b")
        (parked,) = await recorder.parked_streams("relay")
        assert (parked.position, parked.reason) == (3, "b")
        async with recorder.transaction() as transaction:
            await transaction.unpark("relay", "s")
            assert await transaction.parked_streams("relay") == []
        assert await recorder.parked_streams("relay") == []

    async def test_parked_streams_are_kept_per_relay_in_position_order(
        self, recorder: TrackingRecorder[Any]
    ) -> None:
        """One relay's parks are not another's, and they list by position."""
        async with recorder.transaction() as transaction:
            await transaction.park("one", "late", position=9, event_type=CHANGED, reason="x")
            await transaction.park("one", "early", position=2, event_type=CHANGED, reason="x")
            await transaction.park("two", "other", position=1, event_type=CHANGED, reason="x")
        assert [p.stream_id for p in await recorder.parked_streams("one")] == ["early", "late"]
        assert [p.stream_id for p in await recorder.parked_streams("two")] == ["other"]
