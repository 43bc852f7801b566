"""``evp chaos``: the shop under faults, every promise checked from the stores and topics.

:func:`run_chaos` boots the platform as ``evp up`` does, drives orders of every kind at a
steady rate (:mod:`evp.chaos.load`) while :mod:`evp.chaos.injector` carries out a seeded
:mod:`evp.chaos.schedule` of SIGKILLs (and a SIGSTOP), waits for
:mod:`evp.chaos.quiescence`, gathers the :mod:`evp.chaos.audit` from every service's own
database and the topics, and checks :mod:`evp.chaos.invariants`.
"""

from evp.chaos.run import ChaosOptions, run_chaos

__all__ = ["ChaosOptions", "run_chaos"]
