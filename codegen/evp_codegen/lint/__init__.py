"""``evp schemas lint``: every rule the contract in ``schemas/`` must follow, with exact paths.

:func:`lint` runs the rule families (one module each) over a loaded catalog;
:data:`RULES` lists every rule with its severity and a one-line summary.
"""

from evp_codegen.lint.linter import SchemasUnreadable, lint, lint_schemas
from evp_codegen.lint.rules import RULES, Rule

__all__ = ["RULES", "Rule", "SchemasUnreadable", "lint", "lint_schemas"]
