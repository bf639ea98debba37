"""Backend selection: one call to Taichi's init per process, CPU or CUDA, f32 or f64.

``auto`` takes CUDA when a CUDA device answers and the CPU otherwise. Precision sets Taichi's
default float, which every kernel's local arithmetic uses, so the ndarrays and the arithmetic
agree. Taichi's offline cache stays on so compiled kernels are reused across runs.

The host's BLAS (OpenBLAS under NumPy and SciPy) runs on one thread unless the user sets its thread
count (``PDSSB_BLAS_THREADS``, or OpenBLAS's/OpenMP's own variables): the host solves are band
triangular solves and thin matrix–vector products between Taichi kernels, and a second thread pool
beside Taichi's on the same cores makes them slower, not faster (docs/benchmarks.md, "BLAS threads").
"""

from __future__ import annotations

import contextlib
import ctypes.util
import io
import os

from .errors import InputError

_state: dict = {}
_before_reinit: list = []


def on_reinit(callback) -> None:
    """Call ``callback()`` before Taichi is initialised again (a new runtime frees the old one's
    resources: GGUI windows made on the old runtime must be destroyed first, or the process
    crashes when it exits)."""
    if callback not in _before_reinit:
        _before_reinit.append(callback)


def import_taichi():
    """Import Taichi quietly: its banner and C++ warnings would break ``--json`` on stdout."""
    os.environ.setdefault("TI_LOG_LEVEL", "error")
    with contextlib.redirect_stdout(io.StringIO()):
        import taichi as ti
    return ti


def cuda_present() -> bool:
    """A CUDA driver library is loadable (checked before asking Taichi, which logs when it is not)."""
    return ctypes.util.find_library("cuda") is not None


def init(arch: str = "auto", precision: str = "f64", threads: int | None = None) -> str:
    """Initialise Taichi once per process; returns the backend actually used ("cpu" or "cuda")."""
    if arch not in ("auto", "cpu", "gpu", "cuda"):
        raise InputError("--arch", f"unknown backend '{arch}' (use cpu, gpu or auto)")
    if precision not in ("f32", "f64"):
        raise InputError("precision", f"unknown precision '{precision}' (use f32 or f64)")
    key = (arch, precision, threads)
    if _state.get("key") == key:
        return _state["arch"]
    ti = import_taichi()
    if "key" in _state:
        for callback in _before_reinit:
            callback()
    fp = ti.f64 if precision == "f64" else ti.f32
    common = dict(default_fp=fp, offline_cache=True, log_level=ti.WARN)
    if threads is None and os.environ.get("PDSSB_THREADS"):
        threads = int(os.environ["PDSSB_THREADS"])
    cpu_opts = dict(cpu_max_num_threads=threads) if threads else {}
    used = "cpu"
    if arch in ("gpu", "cuda", "auto") and cuda_present():
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                ti.init(arch=ti.cuda, **common)
            used = "cuda" if ti.lang.impl.current_cfg().arch == ti.cuda else "cpu"
        except Exception:  # noqa: BLE001 - no CUDA runtime at all
            used = "cpu"
    if arch in ("gpu", "cuda") and used != "cuda":
        raise InputError("--arch", "gpu requested but no CUDA device is available (use --arch cpu or auto)")
    if used == "cpu":
        with contextlib.redirect_stdout(io.StringIO()):
            ti.init(arch=ti.cpu, **common, **cpu_opts)
    _state.update(key=key, arch=used, precision=precision)
    _limit_host_blas()
    return used


#: variables by which a user sets the BLAS thread count himself; pdssb then leaves it alone
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _limit_host_blas() -> None:
    """One BLAS thread for the host solves (module docstring), or ``PDSSB_BLAS_THREADS``."""
    if "blas_limit" in _state:
        return
    wanted = os.environ.get("PDSSB_BLAS_THREADS")
    if wanted is None and any(os.environ.get(v) for v in BLAS_THREAD_VARIABLES):
        return
    try:
        n = int(wanted) if wanted is not None else 1
    except ValueError:
        raise InputError("PDSSB_BLAS_THREADS", f"must be a whole number of threads, not {wanted!r}") from None
    if n < 1:
        raise InputError("PDSSB_BLAS_THREADS", f"must be at least 1, not {n}")
    import scipy.linalg  # noqa: F401 - loads SciPy's own BLAS, which the limit must see
    from threadpoolctl import threadpool_limits

    _state["blas_limit"] = threadpool_limits(limits=n, user_api="blas")


def current() -> dict:
    return dict(_state)
