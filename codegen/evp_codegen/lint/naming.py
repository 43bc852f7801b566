"""How things are named: events in the past tense, Python-safe fields, conventional case.

An event records a fact, so it is named for what happened to what: ``OrderPlaced``, not the
command ``PlaceOrder`` nor the vague ``OrderEvent``. Field names become attributes of
generated classes, so they must not be Python keywords nor shadow the generated members.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterator

from evp.contract.findings import Finding
from evp_codegen.lint.document import Corpus, SchemaDocument
from evp_codegen.lint.rules import (
    EVENT_NAME_GENERIC,
    EVENT_NAME_NOT_PAST_TENSE,
    FIELD_NAME_CASE,
    RESERVED_NAME,
    TYPE_NAME_CASE,
)

__all__ = [
    "GENERATED_MEMBERS",
    "GENERIC_SUFFIXES",
    "IRREGULAR_PARTICIPLES",
    "check",
    "event_name_problem",
    "words",
]

_IRREGULAR_PARTICIPLES_TEXT = """
    Become Begun Bent Bid Bitten Blown Bought Bound Broadcast Broken Brought Built Burnt Cast
    Caught Chosen Come Cut Dealt Done Drawn Driven Dug Eaten Fallen Felt Flown Forbidden
    Forecast Forgiven Forgotten Found Frozen Given Gone Got Gotten Grown Heard Held Hidden Hit
    Hung Kept Known Laid Led Left Lent Let Lit Lost Made Meant Met Outbid Overcome Overdone
    Overpaid Overtaken Paid Prepaid Put Quit Read Rebuilt Redone Remade Repaid Rerun Reset
    Resold Rewritten Risen Run Said Seen Sent Set Shaken Shed Shot Shown Shut Sold Sought Spent
    Split Spoken Spread Spun Stolen Struck Stuck Sung Swept Sworn Taken Taught Thought Thrown
    Told Torn Undone Understood Upheld Upset Withdrawn Withheld Won Worn Written
    """
IRREGULAR_PARTICIPLES = frozenset(_IRREGULAR_PARTICIPLES_TEXT.split())
"""Past participles that do not end in "ed" (regular ones like Shipped or Placed do)."""

_NOT_PARTICIPLES = frozenset(
    {"Bed", "Breed", "Creed", "Deed", "Embed", "Feed", "Greed", "Need", "Seed", "Speed"}
)
"""Words ending in "ed" that are not past participles."""

GENERIC_SUFFIXES = frozenset({"Event", "Message", "Data", "Info", "Command", "Request", "Payload"})
"""Last words that describe the message rather than what happened."""

_PARTICLES = frozenset({"Away", "Back", "Down", "In", "Off", "On", "Out", "Over", "Up"})
"""Adverbs that complete a phrasal verb, as in LoggedIn or SignedUp."""

_GENERIC_NOUNS = frozenset(
    {"Data", "Entity", "Info", "Item", "Object", "Record", "Something", "Stuff", "Thing"}
)
"""Nouns too vague to say what an event happened to."""

GENERATED_MEMBERS = frozenset(
    {"to_avro", "from_avro", "key", "new", "FULL_NAME", "AVRO_SCHEMA", "SUBJECT", "TOPIC"}
    | {"KEY_FIELD", "VERSION"}
)
"""Members of generated classes (see ``evp.avro.record``); a field cannot take their names."""

_ENUM_RESERVED = frozenset({"mro"})
"""Names Python's ``enum`` reserves, so generated enums cannot have them as members."""

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z]|[0-9]|$)|[A-Z]?[a-z]+|[0-9]+")
_UPPER_CAMEL = re.compile(r"^[A-Z][a-zA-Z0-9]*$")
_SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def words(name: str) -> list[str]:
    """The CamelCase words of ``name``: ``SMSSent`` gives ``["SMS", "Sent"]``."""
    return _WORD.findall(name)


def event_name_problem(name: str) -> tuple[str, str] | None:
    """``(rule id, message)`` when ``name`` is not a specific past-tense event name."""
    parts = words(name)
    if not parts:
        return EVENT_NAME_NOT_PAST_TENSE.id, f"{name!r} has no words to read a tense from"
    last = parts[-1]
    if last in GENERIC_SUFFIXES:
        stem = name[: -len(last)]
        example = stem if stem and event_name_problem(stem) is None else "OrderPlaced"
        return (
            EVENT_NAME_GENERIC.id,
            f"{name} ends in {last!r}, which says nothing about what happened; "
            f"name the fact, e.g. {example}",
        )
    # A phrasal verb (UserLoggedIn, AccountSignedUp) carries its tense on the word before.
    verb_at = -2 if len(parts) > 1 and last in _PARTICLES else -1
    if not _is_participle(parts[verb_at]):
        return (
            EVENT_NAME_NOT_PAST_TENSE.id,
            f"{name} is not in the past tense: {parts[verb_at]!r} should say what happened, "
            "e.g. OrderPlaced rather than PlaceOrder",
        )
    nouns = parts[:verb_at]
    if not nouns or all(noun in _GENERIC_NOUNS for noun in nouns):
        happened = parts[verb_at:]
        return (
            EVENT_NAME_GENERIC.id,
            f"{name} does not say what was {' '.join(happened).lower()}; "
            f"name the thing, e.g. Order{''.join(happened)}",
        )
    return None


def _is_participle(word: str) -> bool:
    return word in IRREGULAR_PARTICIPLES or (word.endswith("ed") and word not in _NOT_PARTICIPLES)


def check(corpus: Corpus) -> Iterator[Finding]:
    """Naming findings for every document of ``corpus``."""
    for document in corpus.documents:
        yield from _event_name(document)
        yield from _type_names(document)
        yield from _field_names(document)
        yield from _enum_symbols(document)


def _event_name(document: SchemaDocument) -> Iterator[Finding]:
    root = document.root
    if not document.is_event or root is None or root.kind != "record":
        return
    problem = event_name_problem(root.simple_name)
    if problem is not None:
        rule = (
            EVENT_NAME_GENERIC if problem[0] == EVENT_NAME_GENERIC.id else EVENT_NAME_NOT_PAST_TENSE
        )
        yield rule.at(document.path, "$.name", problem[1])


def _type_names(document: SchemaDocument) -> Iterator[Finding]:
    for node in document.named:
        if not _UPPER_CAMEL.match(node.simple_name):
            yield TYPE_NAME_CASE.at(
                document.path,
                f"{node.json_path}.name",
                f"{node.kind} name {node.simple_name!r} is not UpperCamelCase",
            )


def _field_names(document: SchemaDocument) -> Iterator[Finding]:
    for field in document.fields:
        name = field.name
        if name is None:
            continue
        where = f"{field.json_path}.name"
        if keyword.iskeyword(name):
            yield RESERVED_NAME.at(
                document.path, where, f"field {name!r} of {field.record} is a Python keyword"
            )
        elif name in GENERATED_MEMBERS:
            yield RESERVED_NAME.at(
                document.path,
                where,
                f"field {name!r} of {field.record} would shadow the generated member {name}",
            )
        elif name.startswith("__"):
            yield RESERVED_NAME.at(
                document.path,
                where,
                f"field {name!r} of {field.record} would be name-mangled by Python",
            )
        elif not _SNAKE.match(name):
            yield FIELD_NAME_CASE.at(
                document.path, where, f"field {name!r} of {field.record} is not snake_case"
            )


def _enum_symbols(document: SchemaDocument) -> Iterator[Finding]:
    for node in document.named:
        symbols = node.schema.get("symbols")
        if node.kind != "enum" or not isinstance(symbols, list):
            continue
        for index, symbol in enumerate(symbols):
            if not isinstance(symbol, str):
                continue
            reserved = keyword.iskeyword(symbol) or symbol in _ENUM_RESERVED
            if reserved or (symbol.startswith("_") and symbol.endswith("_")):
                yield RESERVED_NAME.at(
                    document.path,
                    f"{node.json_path}.symbols[{index}]",
                    f"symbol {symbol!r} of {node.full_name} cannot be a Python enum member",
                )
