"""A Confluent-Schema-Registry-compatible server for Avro, on Postgres.

This package namespace exports only what needs neither HTTP nor Postgres: the
compatibility checker (:func:`check`) and schema parsing, which offline tools reuse.
The server lives in :mod:`evp.registry.app` (``create_app``), :mod:`evp.registry.service`
(``Registry``) and :mod:`evp.registry.testing` (``running_registry``).
"""

from evp.registry.compatibility import (
    CompatibilityLevel,
    CompatibilityResult,
    IncompatibilityType,
    Problem,
    VersionedSchema,
    check,
)
from evp.registry.errors import RegistryError
from evp.registry.mode import Mode
from evp.registry.schema import ParsedSchema, Reference, parse_schema

__all__ = [
    "CompatibilityLevel",
    "CompatibilityResult",
    "IncompatibilityType",
    "Mode",
    "ParsedSchema",
    "Problem",
    "Reference",
    "RegistryError",
    "VersionedSchema",
    "check",
    "parse_schema",
]
