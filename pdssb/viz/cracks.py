"""The crack network of a snapshot: broken bonds as crack faces, and the cracks Li has filled.

A bond is (site, stencil offset) and its state one bit: ``bond_bits`` in a snapshot holds each
site's bit words in interior C order, bit ``k & 31`` of word ``k >> 5`` for offset ``k`` of the
run's stencil (:class:`~pdssb.lattice.stencil.Stencil`, whose offsets :class:`SnapshotData`
carries).

Crack faces. The faces drawn are those of the broken *nearest-neighbour* bonds (|ξ| = Δx): the
face shared by the two sites' lattice cells, normal to the bond through its midpoint (a Δx segment
in 2D, a Δx × Δx square in 3D). Why these: in the PMB law a bond across an opening crack
stretches by the opening over its length, so the shortest bonds break first and a crack that has
opened has cut them; and cell faces tile the cut with no gap or overlap, so the faces of one
crack join into its line (2D) or surface (3D). The longer broken bonds around it (the process
zone) show in the damage field. Every nearest-neighbour bond between two solid sites existed at
the start (``pmb.init_bonds``; sites never turn void), so a clear bit between two solid sites is
a broken bond: the initial bond state is not needed.

Smooth faces. On a lattice a slanted crack cuts its nearest-neighbour bonds in a staircase. Each
face is therefore drawn on the crack's local plane: the plane fitted (least squares) through the
centres of the faces within 2Δx, with the face's lattice plane as a weak prior so that a lone face
keeps its own orientation. The face's centre moves onto that plane (at most half a site), and
the face is projected onto it along its normal n: a face of normal e_a becomes a segment (2D) or
parallelogram (3D) of size Δx^(d-1)·|n·e_a|, so the projections of a staircase tile the slanted
crack with neither gap nor overlap (Σ|n·e_a| over a staircase is the crack's own length or area).

Li-filled cracks. When Li follows a crack (``electrochem.li_follows_crack``):

* fluid Li (``li_mechanics = "fluid"``, mechanics/fluid.py): the crack's broken bonds are wet, and
  the snapshot's ``wet`` field flags the electrolyte sites of the wet clusters (the crack faces Li
  has reached). Li-filled faces: broken bonds with both ends wet; Li-filled sites: the wet sites;
* elastic Li: the electrolyte sites Li enters become Li and their bonds are formed again
  (``CoupledSimulation.li_fill``). Li-filled sites: Li now, electrolyte at the start
  (``SnapshotData.initial_material``, the run's scene painted again); Li-filled faces: broken bonds
  with a Li site at either end. Without the initial material (a run folder whose scene cannot be
  resolved) only the faces are marked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CrackFaces", "bond_bit", "crack_faces", "lattice_face_centres", "li_filled_sites", "lithium_ids"]


def bond_bit(bits: np.ndarray, k: int) -> np.ndarray:
    """State of bond ``k`` at every site: bit ``k`` of the (n_sites, words) uint32 bond words."""
    return ((bits[:, k >> 5] >> np.uint32(k & 31)) & np.uint32(1)).astype(bool)


@dataclass(frozen=True)
class CrackFaces:
    """Broken nearest-neighbour bonds, and the faces drawn for them (site-index coordinates:
    site (i, j) sits at (i, j))."""

    site: np.ndarray  # (F,) flat index (C order) of the end with the lower coordinate
    axis: np.ndarray  # (F,) axis of the bond: the normal of the lattice face
    li_filled: np.ndarray  # (F,) bool
    centre: np.ndarray  # (F, dim) the face's centre on the local crack plane
    normal: np.ndarray  # (F, dim) unit normal of the local crack plane

    def __len__(self) -> int:
        return int(self.site.shape[0])

    def corners(self) -> np.ndarray:
        """The faces laid onto their crack planes: (F, 2, 2) segment ends in 2D, (F, 4, 3)
        parallelogram corners (in order around it) in 3D."""
        f, dim = self.centre.shape
        rows = np.arange(f)
        u = np.zeros((f, dim))
        u[rows, (self.axis + 1) % dim] = 0.5
        if dim == 2:
            rel = np.stack([-u, u], axis=1)
        else:
            v = np.zeros((f, dim))
            v[rows, (self.axis + 2) % dim] = 0.5
            rel = np.stack([-u - v, u - v, u + v, -u + v], axis=1)
        n = self.normal[:, None, :]
        return self.centre[:, None, :] + rel - (rel * n).sum(axis=2, keepdims=True) * n

    def subset(self, keep: np.ndarray) -> CrackFaces:
        return CrackFaces(self.site[keep], self.axis[keep], self.li_filled[keep], self.centre[keep], self.normal[keep])


def lattice_face_centres(site: np.ndarray, axis: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """(F, dim) centres of the lattice faces between ``site`` and its neighbour along ``axis``."""
    c = np.stack(np.unravel_index(site, shape), axis=1).astype(np.float64)
    c[np.arange(len(site)), axis] += 0.5
    return c


def _offset_index(offsets: np.ndarray, vector: np.ndarray) -> int:
    hit = np.nonzero((offsets == vector).all(axis=1))[0]
    if not len(hit):
        raise ValueError(f"the stencil has no offset {tuple(vector)}")
    return int(hit[0])


def crack_faces(bits: np.ndarray, offsets: np.ndarray, shape: tuple[int, ...], solid: np.ndarray,
                lithium: np.ndarray, wet: np.ndarray | None = None) -> CrackFaces:
    """The broken nearest-neighbour bonds of a snapshot.

    ``bits`` (n_sites, words) uint32 bond words, ``offsets`` (K, dim) the stencil, ``solid`` and
    ``lithium`` (n_sites,) bool. A bond counts as broken when either end's bit is clear (the two
    ends clear their bits together; either one is enough to draw it). Li-filled: both ends ``wet``
    (n_sites,) bool, when given (fluid Li), else a Li site at either end.
    """
    dim = len(shape)
    n = int(np.prod(shape))
    bits = np.asarray(bits).reshape(n, -1)
    offsets = np.asarray(offsets)
    index = np.arange(n).reshape(shape)
    lowers, uppers, axes = [], [], []
    for a in range(dim):
        e = np.zeros(dim, dtype=offsets.dtype)
        e[a] = 1
        k_up, k_down = _offset_index(offsets, e), _offset_index(offsets, -e)
        lower = np.take(index, np.arange(shape[a] - 1), axis=a).ravel()
        upper = lower + int(np.prod(shape[a + 1:]))
        broken = (solid[lower] & solid[upper]
                  & ~(bond_bit(bits[lower], k_up) & bond_bit(bits[upper], k_down)))
        lowers.append(lower[broken])
        uppers.append(upper[broken])
        axes.append(np.full(int(broken.sum()), a, dtype=np.int64))
    lower, upper, axis = np.concatenate(lowers), np.concatenate(uppers), np.concatenate(axes)
    centre, normal = _crack_planes(lattice_face_centres(lower, axis, shape), axis)
    filled = wet[lower] & wet[upper] if wet is not None else lithium[lower] | lithium[upper]
    return CrackFaces(lower, axis, filled, centre, normal)


def _crack_planes(c: np.ndarray, axis: np.ndarray, radius: float = 2.1, prior: float = 1e-3):
    """Local crack plane at each face: the least-squares plane through the face centres within
    ``radius`` (site units), plus ``prior`` × the face's own in-plane spread. Returns the centres
    moved onto their planes and the planes' unit normals."""
    from scipy.spatial import cKDTree

    f, dim = c.shape
    if f == 0:
        return c, np.zeros_like(c)
    pairs = cKDTree(c).query_pairs(radius, output_type="ndarray")
    i = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(f)])
    j = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(f)])
    count = np.bincount(i, minlength=f).astype(np.float64)
    mean = np.stack([np.bincount(i, c[j, a], minlength=f) for a in range(dim)], axis=1) / count[:, None]
    d = c[j] - mean[i]
    cov = np.empty((f, dim, dim))
    for a in range(dim):
        for b in range(a, dim):
            cov[:, a, b] = cov[:, b, a] = np.bincount(i, d[:, a] * d[:, b], minlength=f) / count
    e = np.eye(dim)[axis]
    cov += prior * (np.eye(dim) - e[:, :, None] * e[:, None, :])
    normal = np.linalg.eigh(cov)[1][:, :, 0]
    centre = c - ((c - mean) * normal).sum(axis=1, keepdims=True) * normal
    return centre, normal


def lithium_ids(roles: list[str]) -> np.ndarray:
    """Material ids (1-based, as in the ``material`` field) whose role is lithium."""
    return np.array([k + 1 for k, r in enumerate(roles) if r == "lithium"], dtype=np.int64)


def li_filled_sites(material: np.ndarray, initial_material: np.ndarray, li_ids: np.ndarray) -> np.ndarray:
    """Sites that are Li now and were not at the start: Li that followed a crack."""
    return np.isin(material, li_ids) & ~np.isin(initial_material, li_ids) & (np.asarray(initial_material) != 0)
