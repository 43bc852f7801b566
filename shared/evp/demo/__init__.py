"""``evp demo --tour``: the platform's features, narrated step by step.

``evp demo`` itself (``make demo``) is :mod:`evp.demo.run`: the shop run as a client would.

The first half runs offline on the contract (lint, codegen, the codec, evolution); the second
starts the registry, Kafka and two event-sourced components and runs events through them.
"""

from __future__ import annotations

import warnings

from evp.demo.contract import run_contract

__all__ = ["main", "tour"]


def tour() -> int:
    """Run every step of the tour; exit 0 when all of them worked."""
    # pgserver warns that XDG_RUNTIME_DIR is unset on CI machines; nothing to act on here.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    catalog = run_contract()
    from evp.demo.platform import run_platform

    run_platform(catalog)
    print("\nDemo complete.")
    return 0


main = tour
"""The tour, by its earlier name."""
