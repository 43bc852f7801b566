"""``evp schemas check``: the CI compatibility gate, against git or a registry.

What a change breaks is decided by :func:`evp.contract.breaking.find_breaks`, the same rule
registration applies; the gate adds the baselines only tooling needs (:mod:`.baseline`).
"""

from evp_codegen.gate.baseline import BaselineUnavailable, history_from_git

__all__ = ["BaselineUnavailable", "history_from_git"]
