"""evp: a schema-registry-driven Avro event platform.

Schemas under ``schemas/`` are the contract; the registry is the runtime authority;
this package holds the runtime that encodes, publishes and consumes typed events.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
