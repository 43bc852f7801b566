"""The contract under test: every event class and every version pair its subject's level binds."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from evp.contract.catalog import Subject, SubjectVersion, load_catalog
from evp.events import EVENT_TYPES

__all__ = ["BACKWARD_PAIRS", "CATALOG", "EVENT_CLASSES", "FORWARD_PAIRS", "pair_id"]

CATALOG = load_catalog(Path(__file__).resolve().parents[2] / "schemas").require_valid()
EVENT_CLASSES = [EVENT_TYPES[name] for name in sorted(EVENT_TYPES)]

Pair = tuple[SubjectVersion, SubjectVersion]


def _bound_pairs(subject: Subject) -> list[Pair]:
    """(older, newer) pairs the level speaks about: consecutive, or every pair if transitive."""
    if subject.compatibility.endswith("_TRANSITIVE"):
        return list(itertools.combinations(subject.versions, 2))
    return list(itertools.pairwise(subject.versions))


def _pairs(*levels: str) -> list[Pair]:
    return [
        pair
        for subject in CATALOG.subjects.values()
        if subject.compatibility.startswith(levels)
        for pair in _bound_pairs(subject)
    ]


# BACKWARD: new readers read old data; FORWARD: old readers read new data; FULL: both.
BACKWARD_PAIRS = _pairs("BACKWARD", "FULL")
FORWARD_PAIRS = _pairs("FORWARD", "FULL")


def pair_id(value: Any) -> str:
    """A readable test id for one version of a pair, e.g. ``shop.users.UserRegistered@v1``."""
    version: SubjectVersion = value
    return f"{CATALOG.subjects[version.subject].full_name}@v{version.version}"
