"""Performance tooling behind ``pdssb bench``: recorded figures and the regression check (records.py),
memory per site (memory.py), start-up time (startup.py), solver scaling (scaling.py),
coupled time to failure (coupled.py).

Nothing here is timed by the test suite; the tests only check that the machinery works.
"""
