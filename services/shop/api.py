"""How every shop service writes the shared parts of its HTTP API: money, pages, events.

Money travels as a decimal string with two places (``"19.99"``) beside its currency code,
never as a float; a page of a list says where the next one starts; an event shown to an
admin is its own fields as JSON (:func:`event_data`).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import uuid
from decimal import Decimal
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, Field, JsonValue, PlainSerializer, WithJsonSchema

from evp.avro import Event
from evp.web.logs import REDACTED, SECRET_NAMES

__all__ = ["Money", "Page", "event_data", "money_text"]

T = TypeVar("T")


def money_text(amount: Decimal) -> str:
    """``amount`` as the API writes it: two decimal places, e.g. ``"19.90"``."""
    return f"{amount.quantize(Decimal('0.01')):f}"


Money = Annotated[
    Decimal,
    Field(max_digits=12, decimal_places=2, ge=0),
    PlainSerializer(money_text, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d+\.\d{2}$", "examples": ["19.99"]}),
]
"""A non-negative amount with at most two places, read from a string or number and
written as a string ("19.99")."""


NO_NUL = r"^[^\x00]*$"
"""A text field's pattern: Postgres text cannot hold a NUL character, so one is refused as a
bad field (422) rather than reaching the driver (a 500)."""


class Page(BaseModel, Generic[T]):
    """One page of a list, newest first; ``next_cursor`` is ``None`` on the last page."""

    items: list[T]
    next_cursor: str | None = None


def event_data(event: Event) -> dict[str, JsonValue]:
    """``event``'s own fields (its envelope left out) as JSON: ids, times and decimals (as
    written, ``"20.00"``) as strings, enums as their symbol, bytes as hex, records as
    objects; fields named like a secret (``payment_token``) as ``"[redacted]"``."""
    # The Python values, not to_avro()'s: those are the wire's (a decimal as two's-complement
    # bytes, a time as epoch milliseconds, a union as a (name, value) pair).
    data = _json(event)
    if not isinstance(data, dict):
        raise TypeError(f"{type(event).__name__} is not a generated record")
    data.pop("envelope", None)
    return data


def _json(value: object) -> JsonValue:
    match value:
        case None | bool() | int() | float() | str():
            return value
        case enum.Enum():
            return _json(value.value)
        case uuid.UUID():
            return str(value)
        case Decimal():
            return f"{value:f}"
        case datetime.date() | datetime.time():  # datetime is a date
            return value.isoformat()
        case bytes():
            return value.hex()
        case list() | tuple():
            return [_json(item) for item in value]
        case dict():
            return {str(key): _field(str(key), item) for key, item in value.items()}
        case _ if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {
                f.name: _field(f.name, getattr(value, f.name)) for f in dataclasses.fields(value)
            }
    raise TypeError(f"no JSON form for {type(value).__name__}")


def _field(name: str, value: object) -> JsonValue:
    return REDACTED if SECRET_NAMES.search(name) else _json(value)
