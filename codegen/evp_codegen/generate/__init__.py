"""``evp codegen``: the typed event library, generated from each subject's latest schema.

A source (:mod:`.source`, :mod:`.registry_source`) supplies the schemas, :mod:`.model`
turns them into event specs, :mod:`.render` (with :mod:`.expressions`) writes the Python,
and :mod:`.generator` writes the library atomically or reports which files are stale.
"""

from evp_codegen.generate.generator import GeneratedLibrary, generate
from evp_codegen.generate.source import DirectorySource, SchemaSource

__all__ = ["DirectorySource", "GeneratedLibrary", "SchemaSource", "generate"]
