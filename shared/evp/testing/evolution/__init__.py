"""Pairs of record schemas where the second evolves the first, for compatibility properties.

:func:`evolutions` draws a random record schema (nested records, enums, fixed, arrays,
maps, unions, primitives, a few logical types, and references to named types defined
earlier) and applies one to three :class:`MutationKind` edits to a copy of it. Both
schemas are always valid Avro: after each edit, definitions a removal left dangling are
moved to their first remaining use, and defaults the edit invalidated are drawn afresh.
A few valid shapes are never drawn because fastavro mishandles them (see ``_drafter``).
"""

from __future__ import annotations

import copy
from typing import Any, NamedTuple

from hypothesis import strategies as st
from hypothesis.strategies import DrawFn, SearchStrategy

from evp.testing.evolution._drafter import Drafter
from evp.testing.evolution._mutations import Mutation, MutationKind, mutate

__all__ = ["Evolution", "Mutation", "MutationKind", "evolutions"]


class Evolution(NamedTuple):
    """An old schema, the new schema it became, and the edits made in order."""

    old: dict[str, Any]
    new: dict[str, Any]
    mutations: tuple[Mutation, ...]


def evolutions() -> SearchStrategy[Evolution]:
    """Random record schemas, each paired with a copy changed by one to three mutations."""
    return _evolutions()


@st.composite
def _evolutions(draw: DrawFn) -> Evolution:
    drafter = Drafter(draw)
    old = drafter.root()
    new = copy.deepcopy(old)
    kinds = list(MutationKind)
    mutations = tuple(mutate(drafter, new, kinds) for _ in range(draw(st.integers(1, 3))))
    return Evolution(old, new, mutations)
