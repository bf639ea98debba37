"""Shared fixtures for the mechanics verification tests.

Taichi is initialised once per process (CPU, f64); every test that builds a MechanicsModel
takes the ``ti_cpu64`` fixture (session-scoped) before touching Taichi ndarrays.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def ti_cpu64():
    """Initialise the Taichi backend once: CPU, double precision. Returns the backend used."""
    from pdssb import backend

    return backend.init("cpu", "f64")
