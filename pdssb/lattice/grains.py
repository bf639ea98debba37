"""Polycrystals: Voronoi grains on the lattice, coloured so that grain-boundary bonds need no new kernel.

Grain centres are uniform random points in the domain box (NumPy's PCG64 from the scene's seed,
so a seed fixes the microstructure), as many as the box holds grains of the requested mean size:
N = round(V_box / V_grain), V_grain = π d²/4 in 2D (area; grains are columns through the
thickness) and π d³/6 in 3D, d the mean size. Each site of the polycrystalline material takes the
grain of its nearest centre (a k-d tree): the Voronoi tessellation sampled at the sites. d is
therefore the diameter of the circle (sphere) of the *mean* grain area (volume); grains cut by the
domain's faces or by other materials are smaller.

The bond kernels look up a bond's micromodulus and critical stretch in a table indexed by the
material ids of its two ends. A bond is a grain-boundary bond when its ends lie in different grains,
so the grains are coloured: two grains joined by any stencil bond get different colours (greedy,
largest degree first, deterministic). Colour 0 keeps the material's id; colour c ≥ 1 gets a pseudo id
appended after the scene's materials. Bonds between two ids of the same material's colours are then
exactly the grain-boundary bonds, and the pair table (mechanics/bond_table.py) gives them the scaled
constants: the kernels are unchanged. A handful of colours suffices (about 6–8 in 2D, 12–20 in 3D).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .grid import Lattice
from .stencil import Stencil

#: more grains than this is a microstructure no lattice here resolves (mean_size far below dx)
MAX_GRAINS = 2_000_000
#: ids are the low 16 bits of a material word (mechanics/pmb.py: ID_MASK)
MAX_ID = (1 << 16) - 1


@dataclass
class GrainMap:
    """The grains of one material on a lattice."""

    material_id: int  # the polycrystalline material's id (1..n)
    grain_ids: np.ndarray  # (n_sites,) int32: grain 1..n_grains, 0 off the material
    colour: np.ndarray  # (n_grains + 1,) int32: colour of each grain (entry 0 unused)
    pseudo_ids: list[int]  # ids of colours 1..K−1 (colour 0 keeps material_id)
    bond_ids: np.ndarray  # (n_sites,) int32: material ids with each grain's colour id
    centres: np.ndarray  # (n_grains, dim) m: the centre of each grain that holds a site
    mean_size: float  # m, requested

    @property
    def n_grains(self) -> int:
        return int(len(self.colour) - 1)

    @property
    def n_colours(self) -> int:
        return 1 + len(self.pseudo_ids)

    def family(self) -> list[int]:
        """Every id the polycrystalline material's sites carry."""
        return [self.material_id] + list(self.pseudo_ids)


def grain_volume(mean_size: float, dim: int) -> float:
    """Area (2D) or volume (3D) of a grain of equivalent diameter ``mean_size``."""
    return math.pi * mean_size**2 / 4.0 if dim == 2 else math.pi * mean_size**3 / 6.0


def equivalent_diameter(volume: np.ndarray | float, dim: int):
    """Inverse of :func:`grain_volume`: the diameter of the circle / sphere of that area / volume."""
    v = np.asarray(volume, dtype=float)
    return np.sqrt(4.0 * v / math.pi) if dim == 2 else np.cbrt(6.0 * v / math.pi)


def grain_count(box: np.ndarray, mean_size: float) -> int:
    """N = round(V_box / V_grain), at least 1."""
    return max(1, int(round(float(np.prod(box)) / grain_volume(mean_size, len(box)))))


def voronoi_grains(x: np.ndarray, box: np.ndarray, mean_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(index of the nearest centre for each point of ``x``, the centres); centres uniform in [0, box]."""
    n = grain_count(box, mean_size)
    if n > MAX_GRAINS:
        raise ValueError(f"{n} grains exceed {MAX_GRAINS}: mean_size is far too small for the domain")
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0.0, 1.0, size=(n, len(box))) * box
    from scipy.spatial import cKDTree  # imported only for polycrystals (start-up time)

    _, nearest = cKDTree(centres).query(x, k=1)
    return nearest.astype(np.int64), centres


def adjacent_pairs(grid: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(m, 2) sorted pairs (a < b) of positive labels of ``grid`` joined by at least one stencil offset."""
    shape = grid.shape
    codes = []
    big = np.int64(int(grid.max()) + 1)
    for o in offsets:
        if tuple(o) <= (0,) * len(o):  # each unordered pair of sites once: o and −o give the same pairs
            continue
        if any(abs(int(c)) >= n for c, n in zip(o, shape)):
            continue  # reaches past the lattice: no site pair
        src = tuple(slice(max(0, -c), n - max(0, c)) for c, n in zip(o, shape))
        dst = tuple(slice(max(0, c), n - max(0, -c)) for c, n in zip(o, shape))
        a = grid[src].ravel()
        b = grid[dst].ravel()
        sel = (a > 0) & (b > 0) & (a != b)
        if sel.any():
            lo = np.minimum(a[sel], b[sel]).astype(np.int64)
            hi = np.maximum(a[sel], b[sel]).astype(np.int64)
            codes.append(np.unique(lo * big + hi))
    if not codes:
        return np.zeros((0, 2), np.int64)
    u = np.unique(np.concatenate(codes))
    return np.stack([u // big, u % big], axis=1)


def colour_graph(n: int, pairs: np.ndarray) -> np.ndarray:
    """Greedy colouring of nodes 1..n (Welsh–Powell: largest degree first, ties by number); (n + 1,) colours."""
    colour = np.full(n + 1, -1, np.int32)
    colour[0] = 0
    if n == 0:
        return colour
    both = np.concatenate([pairs, pairs[:, ::-1]]) if len(pairs) else np.zeros((0, 2), np.int64)
    order = np.lexsort((both[:, 1], both[:, 0]))
    both = both[order]
    start = np.searchsorted(both[:, 0], np.arange(n + 2))
    degree = np.diff(start)[: n + 1]
    nodes = np.arange(1, n + 1)
    nodes = nodes[np.lexsort((nodes, -degree[1:]))]
    for v in nodes:
        used = set(colour[both[start[v]:start[v + 1], 1]].tolist())
        c = 0
        while c in used:
            c += 1
        colour[v] = c
    return colour


def build_grains(lattice: Lattice, stencil: Stencil, ids: np.ndarray, material_id: int, first_free_id: int,
                 box: np.ndarray, mean_size: float, seed: int) -> GrainMap:
    """Grains of material ``material_id`` (sites where ``ids`` equals it); pseudo ids from ``first_free_id``."""
    mask = ids == material_id
    nearest, centres = voronoi_grains(lattice.positions()[mask], box, mean_size, seed)
    return grains_from_labels(lattice, stencil, ids, material_id, first_free_id, nearest, centres, mean_size)


def grains_from_labels(lattice: Lattice, stencil: Stencil, ids: np.ndarray, material_id: int, first_free_id: int,
                       nearest: np.ndarray, centres: np.ndarray, mean_size: float) -> GrainMap:
    """The :class:`GrainMap` of a tessellation given as the centre index of each site of ``material_id``.

    ``nearest`` holds, for the material's sites in lattice order, the index of their grain's centre in
    ``centres``; grains that hold a site are numbered 1..n in the order of their centres.
    """
    mask = ids == material_id
    used, label = np.unique(nearest, return_inverse=True)
    grain_ids = np.zeros(lattice.n_sites, np.int32)
    grain_ids[mask] = label.astype(np.int32) + 1
    n = len(used)
    pairs = adjacent_pairs(grain_ids.reshape(lattice.shape), stencil.offsets)
    colour = colour_graph(n, pairs)
    k = int(colour[1:].max(initial=0)) + 1
    pseudo = [first_free_id + c for c in range(k - 1)]
    if pseudo and pseudo[-1] > MAX_ID:
        raise ValueError(f"{k} grain colours need ids beyond {MAX_ID}")
    id_of_colour = np.array([material_id] + pseudo, np.int32)
    bond_ids = ids.astype(np.int32).copy()
    bond_ids[mask] = id_of_colour[colour[grain_ids[mask]]]
    return GrainMap(material_id, grain_ids, colour, pseudo, bond_ids, centres[used], mean_size)
