"""``evp up``: the whole platform as supervised processes; ``evp doctor``: is it reachable?

:func:`platform` boots what :class:`Plan` says (from the environment), in dependency order,
each step gated on a health probe; :class:`Supervisor` restarts crashed children with
backoff and stops them in reverse; :class:`StateFile` keeps the machine-readable
description current.
"""

from evp.up.errors import ChildFailed, PlanError, StepFailed, Unreachable, UpError
from evp.up.plan import SERVICES, Plan, parse_replicas
from evp.up.platform import RunningPlatform, platform
from evp.up.state import PlatformState, StateFile
from evp.up.supervisor import Backoff, Supervisor

__all__ = [
    "SERVICES",
    "Backoff",
    "ChildFailed",
    "Plan",
    "PlanError",
    "PlatformState",
    "RunningPlatform",
    "StateFile",
    "StepFailed",
    "Supervisor",
    "Unreachable",
    "UpError",
    "parse_replicas",
    "platform",
]
