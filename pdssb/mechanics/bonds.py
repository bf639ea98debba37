"""Host-side reads of the bond bits (NumPy copies of ``MechanicsModel.bits``).

A bond is bit ``k & 31`` of word ``k >> 5`` of its site's row: one bit per (site, stencil offset),
set while the bond is intact (pmb.bond_is_set is the same test inside kernels).
"""

from __future__ import annotations

import numpy as np


def bond_bit(bits: np.ndarray, P, k: int) -> np.ndarray:
    """Whether the bond through offset ``k`` of each padded site in ``P`` is intact (bool array)."""
    return ((bits[P, k >> 5] >> np.uint32(k & 31)) & 1).astype(bool)


def intact_pairs(bits: np.ndarray, P: np.ndarray, lin: np.ndarray, k: int,
                 partner: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(p, q): the sites of ``P`` whose bond through offset ``k`` is intact, and its other ends
    q = p + lin[k]; with ``partner`` (bool per padded site) only the bonds whose q is in it."""
    Q = P + lin[k]
    ok = bond_bit(bits, P, k)
    if partner is not None:
        ok &= partner[Q]
    return P[ok], Q[ok]
