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
overlap. The bounds are rationals (2c_a ∓ 1)/(2 o_a), compared exactly.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np

from .stencil import Stencil


def crossed_cells(offset) -> list[tuple[int, ...]]:
    """The cells (as offsets from the bond's first end) whose interior the segment 0 → offset crosses."""
    o = tuple(int(v) for v in offset)
    ranges = [range(min(0, v), max(0, v) + 1) for v in o]
    out = []
    for c in itertools.product(*ranges):
        if c == o or not any(c):
            continue
        lo, hi = Fraction(0), Fraction(1)
        for oa, ca in zip(o, c):
            if oa == 0:
                if ca != 0:
                    lo, hi = Fraction(1), Fraction(0)
                continue
            a, b = Fraction(2 * ca - 1, 2 * oa), Fraction(2 * ca + 1, 2 * oa)
            lo, hi = max(lo, min(a, b)), min(hi, max(a, b))
        if lo < hi:
            out.append(c)
    return out


def crossing_table(stencil: Stencil) -> tuple[np.ndarray, np.ndarray]:
    """(start, cells): offset k's crossed cells are ``cells[start[k]:start[k + 1]]`` ((M, dim) int32)."""
    lists = [crossed_cells(o) for o in stencil.offsets]
    start = np.zeros(len(lists) + 1, np.int32)
    start[1:] = np.cumsum([len(c) for c in lists])
    cells = np.array([c for cs in lists for c in cs], np.int32).reshape(-1, stencil.dim)
    return start, cells
