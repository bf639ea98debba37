"""Run the cases of a reproduction: in this process, or each in a fresh (spawned) process."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any, Callable


def run_jobs(run_case: Callable[[dict[str, Any]], Any], todo: list[dict[str, Any]], jobs: int) -> None:
    """``run_case(job)`` for every job; ``jobs`` > 1 runs them in that many spawned processes (a
    Taichi runtime per case: forked children would share the parent's)."""
    if jobs <= 1:
        for job in todo:
            run_case(job)
        return
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        list(pool.map(run_case, todo))
