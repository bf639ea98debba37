"""Line of sight: which lattice cells a bond's segment crosses.

A bond exists only where its two ends see each other: its segment must not cross the interior of
a void site's cell (the square or cube of side Δx centred on the site). Touching an edge or a
corner of a cell does not count, so the diagonal (1, 1) crosses no cell, and a bond is never cut
by the cells at its own ends. Without this rule a slit one or two sites wide is spanned by bonds
of length 2–3 Δx that cross the void, and it opens several times less than a crack.

The cells a segment crosses depend only on its offset, so they form a small host-side table per
stencil: for offset o (integers), cell c ∉ {0, o} is crossed when some t ∈ (0, 1) puts t·o inside
the open cell, |t o_a − c_a| < ½ on every axis. Each axis gives an open interval of t (or all t,
when o_a = 0 and c_a = 0; no t, when o_a = 0 and c_a ≠ 0); the cell is crossed when the intervals
overlap. The bounds are rationals (2c_a ∓ 1)/(2 o_a) with the common denominator 2∏|o_a| (over
o_a ≠ 0), so they are compared exactly as integers.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np

from .stencil import Stencil


def crossed_cells(offset) -> list[tuple[int, ...]]:
    """The cells (as offsets from the bond's first end) whose interior the segment 0 → offset crosses."""
    o = np.array(offset, np.int64)
    moving = o != 0
    denom = 2 * int(np.prod(np.abs(o[moving])))  # t is counted in units of 1/denom
    cells = np.array(list(itertools.product(*(range(min(0, v), max(0, v) + 1) for v in o))), np.int64)
    cells = cells[np.any(cells != 0, axis=1) & np.any(cells != o, axis=1)]
    cells = cells[np.all(cells[:, ~moving] == 0, axis=1)]
    scale = denom // (2 * o[moving])  # exact: ±∏ of the other |o_b|
    a, b = (2 * cells[:, moving] - 1) * scale, (2 * cells[:, moving] + 1) * scale
    lo = np.maximum(np.minimum(a, b).max(axis=1), 0)
    hi = np.minimum(np.maximum(a, b).min(axis=1), denom)
    return [tuple(int(v) for v in c) for c in cells[lo < hi]]


def crossing_table(stencil: Stencil) -> tuple[np.ndarray, np.ndarray]:
    """(start, cells): offset k's crossed cells are ``cells[start[k]:start[k + 1]]`` ((M, dim) int32)."""
    return _table(stencil.dim, stencil.offsets.tobytes())


@lru_cache(maxsize=16)
def _table(dim: int, offsets: bytes) -> tuple[np.ndarray, np.ndarray]:
    lists = [crossed_cells(o) for o in np.frombuffer(offsets, np.int32).reshape(-1, dim)]
    start = np.zeros(len(lists) + 1, np.int32)
    start[1:] = np.cumsum([len(c) for c in lists])
    cells = np.array([c for cs in lists for c in cs], np.int32).reshape(-1, dim)
    start.flags.writeable = cells.flags.writeable = False
    return start, cells
