"""The event being handled, and causal links derived from it, as the runtime sees them.

The rule itself lives in the leaf module :mod:`evp.causation`, shared with the event
store, so an event published on the bus and one appended for the outbox are linked alike;
this module names it where the messaging runtime looks for it.
"""

from __future__ import annotations

from evp.causation import (
    enter_handling,
    exit_handling,
    handled_event,
    handling,
    linked_to_handled,
)

__all__ = ["enter_handling", "exit_handling", "handled_event", "handling", "linked_to_handled"]
