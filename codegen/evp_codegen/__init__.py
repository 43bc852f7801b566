"""Schema tooling: ``lint/``, ``generate/`` (codegen), ``gate/`` (breaking changes), ``cli/``.

It depends on the runtime's leaves (:mod:`evp.schema`, :mod:`evp.contract`, :mod:`evp.errors`);
the runtime never imports it.
"""
