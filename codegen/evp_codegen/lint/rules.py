"""Every rule ``evp schemas lint`` applies: its id, its severity and what it asks for.

Errors are what a registry or the code generator would reject, or what the platform's brief
forbids; warnings are style only and never fail the command.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evp.contract.findings import Finding, Severity

__all__ = [
    "DUPLICATE_FIELD",
    "DUPLICATE_NAME",
    "DUPLICATE_SYMBOL",
    "ENUM_DEFAULT_NOT_SYMBOL",
    "ENVELOPE_MISSING",
    "EVENT_NAME_GENERIC",
    "EVENT_NAME_NOT_PAST_TENSE",
    "FIELD_NAME_CASE",
    "INVALID_DECIMAL",
    "INVALID_DEFAULT",
    "INVALID_LOGICAL_TYPE",
    "INVALID_NAME",
    "INVALID_UNION",
    "MISSING_DOC",
    "MONEY_AS_FLOAT",
    "NAMESPACE_MISMATCH",
    "NAME_MISMATCH",
    "PARSE_ERROR",
    "RESERVED_NAME",
    "RULES",
    "TYPE_NAME_CASE",
    "UNION_DEFAULT_MISMATCH",
    "UNKNOWN_LOGICAL_TYPE",
    "UNKNOWN_TYPE",
    "Rule",
]


@dataclass(frozen=True)
class Rule:
    """A lint rule; :meth:`at` makes a finding of it."""

    id: str
    severity: Severity
    summary: str

    def at(self, path: Path, json_path: str, message: str) -> Finding:
        """A finding of this rule at ``json_path`` in the file ``path``."""
        return Finding(path, json_path, self.id, message, self.severity)


_E = Severity.ERROR
_W = Severity.WARNING

# What Avro parsers (fastavro, or Confluent's Java parser) reject.
PARSE_ERROR = Rule("PARSE_ERROR", _E, "the schema is not a well-formed Avro schema")
UNKNOWN_TYPE = Rule("UNKNOWN_TYPE", _E, "a type name is neither defined before use nor shared")
UNION_DEFAULT_MISMATCH = Rule(
    "UNION_DEFAULT_MISMATCH", _E, "a union field's default must match the union's first branch"
)
INVALID_DEFAULT = Rule("INVALID_DEFAULT", _E, "a field default must be valid for the field type")
ENUM_DEFAULT_NOT_SYMBOL = Rule(
    "ENUM_DEFAULT_NOT_SYMBOL", _E, "an enum's default must be one of its symbols"
)
DUPLICATE_SYMBOL = Rule("DUPLICATE_SYMBOL", _E, "enum symbols must be unique")
INVALID_NAME = Rule("INVALID_NAME", _E, "names, namespaces and symbols must be Avro identifiers")
DUPLICATE_NAME = Rule(
    "DUPLICATE_NAME", _E, "a full name is defined once per schema and means one thing everywhere"
)
DUPLICATE_FIELD = Rule("DUPLICATE_FIELD", _E, "field names are unique within a record")
INVALID_UNION = Rule(
    "INVALID_UNION", _E, "unions hold no nested unions and no two branches of one type"
)
INVALID_DECIMAL = Rule(
    "INVALID_DECIMAL", _E, "decimals need precision > 0, 0 <= scale <= precision"
)
INVALID_LOGICAL_TYPE = Rule(
    "INVALID_LOGICAL_TYPE", _E, "a logical type sits on its base type, never on a field"
)
UNKNOWN_LOGICAL_TYPE = Rule(
    "UNKNOWN_LOGICAL_TYPE", _W, "an unknown logical type is silently read as its base type"
)

# The platform's own conventions.
EVENT_NAME_NOT_PAST_TENSE = Rule(
    "EVENT_NAME_NOT_PAST_TENSE", _E, "an event is named for what happened: OrderPlaced"
)
EVENT_NAME_GENERIC = Rule(
    "EVENT_NAME_GENERIC", _E, "an event name says what happened to what, without filler words"
)
TYPE_NAME_CASE = Rule("TYPE_NAME_CASE", _W, "record, enum and fixed names are UpperCamelCase")
FIELD_NAME_CASE = Rule("FIELD_NAME_CASE", _W, "field names are snake_case")
NAMESPACE_MISMATCH = Rule(
    "NAMESPACE_MISMATCH", _E, "a type in <domain>/ lives in namespace <root>.<domain>"
)
NAME_MISMATCH = Rule("NAME_MISMATCH", _E, "a file's top-level type is named for its folder or file")
MISSING_DOC = Rule("MISSING_DOC", _E, "every record, enum and field has a non-empty doc")
ENVELOPE_MISSING = Rule(
    "ENVELOPE_MISSING", _E, "an event's first field is `envelope` of the catalog's envelope type"
)
MONEY_AS_FLOAT = Rule("MONEY_AS_FLOAT", _E, "money is a decimal, never a float or double")
RESERVED_NAME = Rule(
    "RESERVED_NAME", _E, "a name the generated Python code cannot use as an attribute"
)

RULES: tuple[Rule, ...] = (
    PARSE_ERROR,
    UNKNOWN_TYPE,
    UNION_DEFAULT_MISMATCH,
    INVALID_DEFAULT,
    ENUM_DEFAULT_NOT_SYMBOL,
    DUPLICATE_SYMBOL,
    INVALID_NAME,
    DUPLICATE_NAME,
    DUPLICATE_FIELD,
    INVALID_UNION,
    INVALID_DECIMAL,
    INVALID_LOGICAL_TYPE,
    UNKNOWN_LOGICAL_TYPE,
    EVENT_NAME_NOT_PAST_TENSE,
    EVENT_NAME_GENERIC,
    TYPE_NAME_CASE,
    FIELD_NAME_CASE,
    NAMESPACE_MISMATCH,
    NAME_MISMATCH,
    MISSING_DOC,
    ENVELOPE_MISSING,
    MONEY_AS_FLOAT,
    RESERVED_NAME,
)
"""Every rule, in the order the docs list them."""
