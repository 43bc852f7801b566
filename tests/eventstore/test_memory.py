"""The in-memory recorder against the conformance suite, plus its own commit hook."""

from __future__ import annotations

import pytest

from evp.eventstore import MemoryRecorder

from .conftest import ticking_clock
from .contracts import Boom, RecorderContract


class TestMemoryRecorder(RecorderContract):
    """Every recorder promise, kept in memory."""

    @pytest.fixture
    def recorder(self) -> MemoryRecorder:
        """An empty in-memory recorder with a ticking clock."""
        return MemoryRecorder(clock=ticking_clock())


async def test_on_commit_callbacks_run_after_a_commit(memory_recorder: MemoryRecorder) -> None:
    """A handler's own in-memory change applies once its transaction commits."""
    applied: list[str] = []
    async with memory_recorder.transaction() as transaction:
        transaction.on_commit(lambda: applied.append("row"))
        assert applied == []
    assert applied == ["row"]


async def test_on_commit_callbacks_never_run_after_a_rollback(
    memory_recorder: MemoryRecorder,
) -> None:
    """A rolled-back transaction drops the handler's own changes too."""
    applied: list[str] = []

    async def doomed() -> None:
        async with memory_recorder.transaction() as transaction:
            transaction.on_commit(lambda: applied.append("row"))
            raise Boom

    with pytest.raises(Boom):
        await doomed()
    assert applied == []
