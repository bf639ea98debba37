"""Test session set-up: one Taichi runtime per process, f64 (the precision the verification
tolerances are stated for), on the CPU unless PDSSB_TEST_ARCH names another backend ("gpu": the
suite on CUDA, for a machine with a GPU; docs/benchmarks.md, "GPU")."""

import os

import pytest

from pdssb import backend


@pytest.fixture(scope="session", autouse=True)
def taichi_f64():
    backend.init(os.environ.get("PDSSB_TEST_ARCH", "cpu"), "f64")
    yield
