"""Settings shared by every test: the Hypothesis profile named by ``HYPOTHESIS_PROFILE``."""

from __future__ import annotations

import os

from hypothesis import settings

# `make test` runs the fast profile; HYPOTHESIS_PROFILE=thorough searches far wider.
settings.register_profile("fast", max_examples=30, deadline=None)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))
