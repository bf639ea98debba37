"""backend.py: the host BLAS runs on the thread count pdssb chose, and a bad count is an input error."""

import os
import subprocess
import sys

import pytest

from pdssb import backend
from pdssb.errors import InputError


def _blas_threads(env: dict) -> str:
    """The thread counts the BLAS libraries report after ``backend.init`` in a fresh process."""
    code = ("from pdssb import backend; backend.init('cpu'); from threadpoolctl import threadpool_info; "
            "print(sorted({i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'}))")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_host_blas_on_one_thread_unless_asked():
    base = {k: v for k, v in os.environ.items()
            if k not in backend.BLAS_THREAD_VARIABLES + ("PDSSB_BLAS_THREADS",)}
    assert _blas_threads(base) == "[1]"
    assert _blas_threads(base | {"PDSSB_BLAS_THREADS": "2"}) == "[2]"
    assert _blas_threads(base | {"OPENBLAS_NUM_THREADS": "2"}) == "[2]"  # the user's own setting is kept


@pytest.mark.parametrize("value", ["two", "0"])
def test_bad_blas_thread_count(monkeypatch, value):
    monkeypatch.setenv("PDSSB_BLAS_THREADS", value)
    monkeypatch.delitem(backend._state, "blas_limit", raising=False)
    with pytest.raises(InputError, match="PDSSB_BLAS_THREADS"):
        backend._limit_host_blas()
