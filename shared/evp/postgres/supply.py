"""Fresh databases for tests, created ahead of need on a background thread.

Creating a database copies the template (megabytes), which takes longer than most tests
that use it. A :class:`DatabaseSupply` keeps a few created in advance and drops used ones
in the background, so each test still gets a database of its own without waiting.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from types import TracebackType

from evp.postgres.database import create_database, database_url, drop_database, unique_name

__all__ = ["DatabaseSupply"]

# Work items besides database names (which mean "drop this one").
_WAKE = object()
_STOP = object()


class DatabaseSupply:
    """Databases on ``admin_url``'s server, ``ahead`` made in advance, ``parallel`` at once.

    Each is a copy of ``template`` (``template1`` by default): a template with the
    migrations applied spares every test from running them.
    """

    def __init__(
        self,
        admin_url: str,
        *,
        prefix: str = "evp_test",
        ahead: int = 4,
        parallel: int = 2,
        template: str | None = None,
        file_copy: bool = False,
    ) -> None:
        self.admin_url = admin_url
        self.prefix = prefix
        self.parallel = parallel
        self.template = template
        self.file_copy = file_copy
        self._ready: queue.Queue[str | BaseException] = queue.Queue(maxsize=ahead)
        self._work: queue.Queue[object] = queue.Queue()
        self._failed = False
        self._thread = threading.Thread(target=self._run, name="evp-database-supply", daemon=True)
        self._thread.start()

    def take(self, timeout: float = 60.0) -> tuple[str, str]:
        """A new database: its name and URL. Raises what creating it raised."""
        item = self._ready.get(timeout=timeout)
        if isinstance(item, BaseException):
            self._ready.put(item)  # every later caller should see the failure too
            raise item
        self._work.put(_WAKE)
        return item, database_url(self.admin_url, item)

    def release(self, name: str) -> None:
        """Drop database ``name`` in the background."""
        self._work.put(name)

    def close(self) -> None:
        """Stop, dropping the databases created but never taken; wait for the thread."""
        self._work.put(_STOP)
        self._thread.join(timeout=60)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            while True:
                room = self._ready.maxsize - self._ready.qsize()
                if not self._failed and room > 0:
                    # Several at once: the server overlaps their copies and checkpoints.
                    loop.run_until_complete(self._create(min(room, self.parallel)))
                    continue
                item = self._work.get()
                if item is _STOP:
                    break
                if isinstance(item, str):
                    loop.run_until_complete(drop_database(self.admin_url, item))
            leftovers = [*_drain(self._ready), *_drain(self._work)]
            for name in leftovers:
                if isinstance(name, str):
                    loop.run_until_complete(drop_database(self.admin_url, name))
        finally:
            loop.close()

    async def _create(self, count: int) -> None:
        names = [unique_name(self.prefix) for _ in range(count)]
        results = await asyncio.gather(
            *(
                create_database(
                    self.admin_url, name, template=self.template, file_copy=self.file_copy
                )
                for name in names
            ),
            return_exceptions=True,
        )
        for name, result in zip(names, results, strict=True):
            if isinstance(result, BaseException):
                self._failed = True
                self._ready.put(result)
                return
            self._ready.put(name)

    def __enter__(self) -> DatabaseSupply:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _drain(source: queue.Queue[object] | queue.Queue[str | BaseException]) -> list[object]:
    items: list[object] = []
    while True:
        try:
            items.append(source.get_nowait())
        except queue.Empty:
            return items
