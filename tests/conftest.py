"""Shared pytest setup: one hypothesis profile for the whole suite (as attrs does)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "symcalc",
    max_examples=int(os.environ.get("SYMCALC_HYPOTHESIS_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),
)
settings.load_profile("symcalc")
