"""Hypothesis settings for the unit tier, in one place.

No per-example deadline: speed is the benchmark's to measure, and on a shared, busy machine
Hypothesis's default 200 ms deadline fails a correct example for being slow.
"""

from hypothesis import settings

settings.register_profile("lucia_pyodide", deadline=None)
settings.load_profile("lucia_pyodide")
