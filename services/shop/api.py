"""How every shop service writes the shared parts of its HTTP API: money, pages.

Money travels as a decimal string with two places (``"19.99"``) beside its currency code,
never as a float; a page of a list says where the next one starts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, Field, PlainSerializer, WithJsonSchema

__all__ = ["Money", "Page", "money_text"]

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


class Page(BaseModel, Generic[T]):
    """One page of a list, newest first; ``next_cursor`` is ``None`` on the last page."""

    items: list[T]
    next_cursor: str | None = None
