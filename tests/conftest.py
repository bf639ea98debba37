"""Test session set-up: one Taichi runtime per process, CPU, f64 (the precision the verification
tolerances are stated for)."""

import pytest

from pdssb import backend


@pytest.fixture(scope="session", autouse=True)
def taichi_cpu_f64():
    backend.init("cpu", "f64")
    yield
