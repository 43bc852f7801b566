"""The Postgres server a bench section runs against: configured, or embedded for the run.

``EVP_BENCH_DATABASE_URL`` points the sections at another server (the role must be allowed
to create databases); without it an embedded one is started with durability off, so the
numbers show the platform's own cost rather than the disk's. A section that can have
neither is skipped, not failed.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import ExitStack
from pathlib import Path

from evp.bench.errors import SectionSkipped
from evp.postgres import EmbeddedPostgres, EmbeddedPostgresError

__all__ = ["DATABASE_URL_VARIABLE", "admin_url"]

DATABASE_URL_VARIABLE = "EVP_BENCH_DATABASE_URL"


def admin_url(stack: ExitStack, section: str) -> str:
    """A URL that may create databases; an embedded server lives as long as ``stack``."""
    configured = os.environ.get(DATABASE_URL_VARIABLE)
    if configured:
        return configured
    data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="evp-bench-")))
    try:
        server = EmbeddedPostgres(data_dir / "postgres", delete_on_stop=True, durable=False)
        return stack.enter_context(server).url()
    except EmbeddedPostgresError as error:
        raise SectionSkipped(section, str(error)) from error
