"""The schema model shared by the registry, the consumer path and the schema tooling.

Parsing a schema text (:func:`parse_schema`), its canonical form, and the compatibility
checker (:func:`check`) with structured answers (:class:`Problem`: type, path, reader and
writer fragments). A leaf: it imports nothing of ``evp`` but :mod:`evp.errors`, so the
server, the runtime and the tooling can all depend on it and never on each other.
"""

from evp.schema.canonical import canonical_form, fingerprint
from evp.schema.compatibility import (
    CompatibilityLevel,
    CompatibilityResult,
    VersionedSchema,
    check,
)
from evp.schema.errors import InvalidCompatibilityLevelError, InvalidSchemaError, SchemaError
from evp.schema.parsed import ParsedSchema, Reference, parse_schema
from evp.schema.resolution import IncompatibilityType, Problem, find_problems

__all__ = [
    "CompatibilityLevel",
    "CompatibilityResult",
    "IncompatibilityType",
    "InvalidCompatibilityLevelError",
    "InvalidSchemaError",
    "ParsedSchema",
    "Problem",
    "Reference",
    "SchemaError",
    "VersionedSchema",
    "canonical_form",
    "check",
    "find_problems",
    "fingerprint",
    "parse_schema",
]
