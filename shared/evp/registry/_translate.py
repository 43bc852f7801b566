"""Where the schema model's errors become the registry's Confluent-coded ones.

:mod:`evp.schema` knows nothing of HTTP; every registry call into it that can fail runs
inside :func:`schema_errors`, so a bad schema or level answers 422 with Confluent's code.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from evp.registry.errors import InvalidCompatibilityLevelError, InvalidSchemaError
from evp.schema import errors as schema

__all__ = ["schema_errors"]


@contextmanager
def schema_errors(*, subject: str | None = None) -> Iterator[None]:
    """Re-raise :mod:`evp.schema` errors as the registry's, naming ``subject`` when known."""
    try:
        yield
    except schema.InvalidSchemaError as error:
        raise InvalidSchemaError(error.detail, subject=subject) from error
    except schema.InvalidCompatibilityLevelError as error:
        raise InvalidCompatibilityLevelError(error.level) from error
