"""``make demo``: the platform end to end, narrated step by step.

The first half runs offline on the contract (lint, codegen, the codec, evolution); the second
starts the registry, Kafka and two event-sourced components and runs events through them.
"""

from __future__ import annotations

import warnings

from evp.demo.contract import run_contract

__all__ = ["main"]


def main() -> int:
    """Run every step; exit 0 when all of them worked."""
    # pgserver warns that XDG_RUNTIME_DIR is unset on CI machines; nothing to act on here.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    catalog = run_contract()
    from evp.demo.platform import run_platform

    run_platform(catalog)
    print("\nDemo complete.")
    return 0
