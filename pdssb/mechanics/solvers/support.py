"""The support shift: a diagonal term on the unknowns that K leaves unsupported (newton.py's matrices).

A detached fragment (a connected part of the intact-bond graph with no prescribed displacement) has
rigid-body modes, and a site left with collinear bonds is a mechanism; K is singular there. Those
unknowns, and only those, get a diagonal shift of ``shift`` (1e-3) × the mean diagonal (of K at its last
full assembly, so that the shifts change only where an unknown loses its support): the fragments are
found as connected components of K whose rigid-body modes have a vanishing Rayleigh quotient, the
mechanisms as sites whose own d×d block of K has a smallest eigenvalue below 1e-3 of the mean diagonal.
Everything else gets only SHIFT_FLOOR of it, so the Newton steps model the body's softest elastic modes
exactly at every lattice size: the lowest elastic mode is ≈ (π/n)² × the mean diagonal on a side of n
sites, below any shift that large once n exceeds ~100 (docs/benchmarks.md, "Solver scaling").
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from ..bonds import bond_bit

#: diagonal shift of the supported unknowns, relative to the mean diagonal of K (round-off guard)
SHIFT_FLOOR = 1e-9


class SupportShift:
    """The shift per unknown, and the connected components of K's graph it was found with (kept between
    refreshes that cannot have split one)."""

    def __init__(self, assembly, shift: float = 1e-3, stats: dict | None = None):
        self.asm = assembly
        self.shift = shift
        self.stats = stats if stats is not None else {}
        self._cc = None  # (count, labels) of the connected components of Kb's graph
        self._frag = None  # per unknown: on a fragment (a component with a free rigid-body mode)
        self._weak = None  # per unknown: shifted at the last call

    def forget(self) -> None:
        """A new numbering: the components are searched afresh at the next call."""
        self._cc = self._frag = self._weak = None

    def joined(self, broken) -> bool:
        """True when the bonds just broken cannot have split a connected component of K's graph: the
        two ends of each are still joined through a common neighbour r, by intact bonds along no
        lattice axis (so every component of p couples to every component of r, and of r to q), with
        all of r's components free. (Breaking a bond removes the graph's edges between its ends'
        unknowns, and changes their diagonal blocks; removing edges whose ends stay connected leaves
        every component as it was.)"""
        terms, bits, ids = broken
        asm = self.asm
        free = (asm.dof >= 0).all(axis=1) & (ids != 0)
        offsets = asm.m.stencil.offsets
        for P, Q, kb, sign in terms:
            if sign > 0:
                return False  # a bond restored: components may merge
            ok = np.zeros(len(P), dtype=bool)
            for k in asm.oblique:
                k2 = asm.offset_index.get(tuple((offsets[k] - offsets[kb]).tolist()))
                if k2 is None or k2 not in asm.oblique_set:
                    continue
                R = P + asm.lin[k]
                ok |= (bond_bit(bits, P, k) & bond_bit(bits, Q, k2) & free[R]
                       & (asm.cpair[ids[P], ids[R]] > 0) & (asm.cpair[ids[Q], ids[R]] > 0))
                if ok.all():
                    break
            if not ok.all():
                return False
        return True

    def __call__(self, K: sparse.csc_matrix, scale: float, broken=None) -> np.ndarray:
        """Per-unknown diagonal shift: ``shift`` × ``scale`` (the mean diagonal of K at its last full assembly) on
        fragments and mechanisms, else SHIFT_FLOOR × it (fixed between assemblies, so a shift changes
        only where an unknown loses its support: a rank-1 change, linalg.LowRankUpdate).

        ``broken``: (bonds whose bit flipped, the bits after, ids, every site whose bonds' stiffness
        changed) when K was updated in place for exactly those bonds. When the flipped bonds' ends stay
        joined (:meth:`joined`: the components are those of the previous call) and every changed site
        is free in all its components, only those sites are looked at again: a rigid-body mode costs
        nothing on a bond between two free sites, so no fragment changed, and only their diagonal
        blocks did. Otherwise the components are searched on the stored nonzeros and every unknown is
        tested."""
        ndof = K.shape[0]
        out = np.full(ndof, SHIFT_FLOOR * scale)
        if ndof == 0:
            return out
        kept = broken is not None and self._cc is not None and self.joined(broken[:3])
        sites = broken[3] if kept else None
        if (sites is not None and self._weak is not None and len(self._weak) == ndof
                and (self.asm.dof[sites] >= 0).all()):
            weak = self._weak.copy()
            idx = self.asm.dof[sites].ravel()
            weak[idx] = self._frag[idx] | (np.asarray(K[idx, idx]).ravel() < self.shift * scale)
            weak[self._mechanisms(K, sites, scale)] = True
        else:
            weak = K.diagonal() < self.shift * scale
            if not kept:
                G = K.copy()
                G.eliminate_zeros()  # broken bonds' entries, kept as zeros by _add_in_place, are no edges
                self._cc = connected_components(G, directed=False)
            ncomp, label = self._cc
            # fragments: connected components on which a rigid-body mode costs (almost) no energy
            B = self.asm.near_null()
            KB = K @ B
            frag = np.zeros(ndof, bool)
            for r in range(B.shape[1]):
                energy = np.bincount(label, weights=B[:, r] * KB[:, r], minlength=ncomp)
                norm = np.bincount(label, weights=B[:, r] * B[:, r], minlength=ncomp)
                free = (norm > 0) & (energy <= 1e-6 * scale * norm)
                frag |= free[label]
            self._frag = frag
            weak |= frag
            full = np.nonzero((self.asm.dof >= 0).all(axis=1))[0]
            weak[self._mechanisms(K, full, scale)] = True
        self._weak = weak
        out[weak] = self.shift * scale
        self.stats["shifted_unknowns"] = int(weak.sum())
        return out

    def _mechanisms(self, K: sparse.csc_matrix, sites: np.ndarray, scale: float) -> np.ndarray:
        """The unknowns of those ``sites`` (free in every component) whose own d×d block of K is (nearly)
        singular: a site left with collinear bonds."""
        d = self.asm.d
        if len(sites) == 0:
            return np.zeros(0, np.int64)
        idx = self.asm.dof[sites]
        dg = [np.asarray(K[idx[:, a], idx[:, a]]).ravel() for a in range(d)]
        off = {(a, b): np.asarray(K[idx[:, a], idx[:, b]]).ravel() for a in range(d) for b in range(a + 1, d)}
        if d == 2:  # smallest eigenvalue of [[p, r], [r, q]] in closed form
            p_, q_, r_ = dg[0], dg[1], off[(0, 1)]
            lam = 0.5 * (p_ + q_) - np.sqrt(0.25 * (p_ - q_) ** 2 + r_ * r_)
        else:
            blk = np.empty((idx.shape[0], d, d))
            for a in range(d):
                blk[:, a, a] = dg[a]
            for (a, b), v in off.items():
                blk[:, a, b] = blk[:, b, a] = v
            lam = np.linalg.eigvalsh(blk)[:, 0]
        return idx[lam < self.shift * scale].ravel()
