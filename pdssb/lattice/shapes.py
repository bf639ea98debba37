"""Geometric inside-tests for painting regions onto a regular lattice.

All coordinates are SI metres.  Points are float arrays of shape ``(N, dim)``
with ``dim`` 2 or 3.  Every shape is a small frozen dataclass offering

* ``dim`` -- 2 or 3 (inferred from its vectors where it works in both),
* ``inside(points)`` -- vectorised boolean mask of shape ``(N,)``,
* ``bounds()`` -- axis-aligned bounding box ``(lo, hi)`` as numpy arrays,
* ``min_feature_size()`` -- the smallest characteristic length in metres, used
  to refuse a lattice spacing coarser than the feature.

Shapes:

* :class:`Box` -- axis-aligned rectangle / cuboid ``lo <= x <= hi``.
* :class:`Sphere` -- disc (2D) or ball (3D) ``|x - c| <= r``.
* :class:`Ellipsoid` -- axis-aligned ellipse / ellipsoid.
* :class:`HalfSpace` -- ``(x - p) . n <= 0``.
* :class:`Polygon` -- simple 2D polygon, either vertex orientation.
* :class:`StlMesh` -- closed triangle mesh read from an STL file (3D only).

Boundaries are inclusive: a point on the boundary, up to a relative tolerance
of 1e-12 of the shape's size (or of its coordinates, whichever is larger), is
inside, so lattice sites lying exactly on a face are painted.

``StlMesh.inside`` does not use ``trimesh.Trimesh.contains``: in trimesh 5.2
that call (like ``trimesh.ray`` and ``trimesh.proximity.signed_distance``)
needs the optional ``rtree`` package, which is not a dependency of pdssb.
Instead it casts rays along +z with an even-odd crossing count, vectorised
over the lattice columns (points sharing x and y share one ray) and over
the triangles, which are bucketed on a uniform x-y grid.  Exact ties (a ray
through an edge or vertex, a point on a face) are broken consistently by
symbolic perturbation, so a ray through a shared edge is counted exactly once.
The mesh surface is inclusive with a tolerance of 1e-6 of the mesh's
coordinate magnitude, which covers the float32 rounding of binary STL
vertices: a point is inside if any of the eight points ``x + tol * (+-1,
+-1, +-1)`` is inside the closed mesh.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = [
    "Box",
    "Ellipsoid",
    "GeometryError",
    "HalfSpace",
    "Polygon",
    "Shape",
    "Sphere",
    "StlMesh",
]

#: Relative tolerance that makes boundaries of the analytic shapes inclusive.
REL_TOL = 1e-12
#: Relative tolerance of the STL surface (above float32 rounding, ~6e-8).
STL_REL_TOL = 1e-6
#: Number of points tested per batch in :meth:`StlMesh.inside`.
STL_CHUNK = 200_000


class GeometryError(ValueError):
    """A geometry (typically an STL file) that cannot be used as a region."""


@runtime_checkable
class Shape(Protocol):
    """Interface shared by all shapes and surface defects."""

    @property
    def dim(self) -> int: ...

    def inside(self, points: np.ndarray) -> np.ndarray: ...

    def bounds(self) -> tuple[np.ndarray, np.ndarray]: ...

    def min_feature_size(self) -> float: ...


def _vector(value, name: str, dims: tuple[int, ...] = (2, 3)) -> tuple[float, ...]:
    """Validate a finite coordinate vector of an allowed length, as a float tuple."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 1 or arr.shape[0] not in dims:
        raise ValueError(f"{name} must be a vector of length {' or '.join(map(str, dims))}, got {value!r}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    return tuple(float(v) for v in arr)


def _positive(value, name: str) -> float:
    """Validate a finite, strictly positive length."""
    v = float(value)
    if not (np.isfinite(v) and v > 0.0):
        raise ValueError(f"{name} must be a positive finite length in metres, got {value!r}.")
    return v


def _as_points(points, dim: int) -> np.ndarray:
    """Return ``points`` as a float64 array of shape ``(N, dim)`` or raise."""
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ValueError(f"points must have shape (N, {dim}), got {arr.shape}.")
    return arr


def _same_dim(a: tuple[float, ...], b: tuple[float, ...], names: str) -> None:
    if len(a) != len(b):
        raise ValueError(f"{names} must have the same dimension, got {len(a)} and {len(b)}.")


@dataclass(frozen=True)
class Box:
    """Axis-aligned rectangle (2D) or cuboid (3D) with corners ``lo`` and ``hi`` in metres."""

    lo: tuple[float, ...]
    hi: tuple[float, ...]

    def __post_init__(self) -> None:
        lo, hi = _vector(self.lo, "Box lo"), _vector(self.hi, "Box hi")
        _same_dim(lo, hi, "Box lo and hi")
        if not all(h > l for l, h in zip(lo, hi)):
            raise ValueError(f"Box hi must exceed lo in every component, got lo={lo} and hi={hi}.")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)

    @property
    def dim(self) -> int:
        return len(self.lo)

    def inside(self, points) -> np.ndarray:
        x = _as_points(points, self.dim)
        lo, hi = self.bounds()
        tol = REL_TOL * max(np.max(hi - lo), np.max(np.abs(lo)), np.max(np.abs(hi)))
        return np.all((x >= lo - tol) & (x <= hi + tol), axis=1)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array(self.lo), np.array(self.hi)

    def min_feature_size(self) -> float:
        return float(np.min(np.subtract(self.hi, self.lo)))


@dataclass(frozen=True)
class Sphere:
    """Disc (2D) or ball (3D) of ``radius`` metres around ``center``."""

    center: tuple[float, ...]
    radius: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "center", _vector(self.center, "Sphere center"))
        object.__setattr__(self, "radius", _positive(self.radius, "Sphere radius"))

    @property
    def dim(self) -> int:
        return len(self.center)

    def inside(self, points) -> np.ndarray:
        d = _as_points(points, self.dim) - np.array(self.center)
        tol = REL_TOL * max(self.radius, np.max(np.abs(self.center)))
        return np.einsum("ij,ij->i", d, d) <= (self.radius + tol) ** 2

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        c = np.array(self.center)
        return c - self.radius, c + self.radius

    def min_feature_size(self) -> float:
        return self.radius


@dataclass(frozen=True)
class Ellipsoid:
    """Axis-aligned ellipse (2D) or ellipsoid (3D) with ``semi_axes`` in metres around ``center``."""

    center: tuple[float, ...]
    semi_axes: tuple[float, ...]

    def __post_init__(self) -> None:
        center = _vector(self.center, "Ellipsoid center")
        axes = _vector(self.semi_axes, "Ellipsoid semi_axes")
        _same_dim(center, axes, "Ellipsoid center and semi_axes")
        axes = tuple(_positive(a, "Ellipsoid semi-axis") for a in axes)
        object.__setattr__(self, "center", center)
        object.__setattr__(self, "semi_axes", axes)

    @property
    def dim(self) -> int:
        return len(self.center)

    def inside(self, points) -> np.ndarray:
        q = (_as_points(points, self.dim) - np.array(self.center)) / np.array(self.semi_axes)
        rel = REL_TOL * max(1.0, np.max(np.abs(self.center)) / min(self.semi_axes))
        return np.einsum("ij,ij->i", q, q) <= (1.0 + rel) ** 2

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        c, a = np.array(self.center), np.array(self.semi_axes)
        return c - a, c + a

    def min_feature_size(self) -> float:
        return min(self.semi_axes)


@dataclass(frozen=True)
class HalfSpace:
    """Half-plane (2D) or half-space (3D) ``(x - point) . normal <= 0``; ``normal`` is stored normalised."""

    point: tuple[float, ...]
    normal: tuple[float, ...]

    def __post_init__(self) -> None:
        point = _vector(self.point, "HalfSpace point")
        normal = _vector(self.normal, "HalfSpace normal")
        _same_dim(point, normal, "HalfSpace point and normal")
        norm = float(np.linalg.norm(normal))
        if norm == 0.0:
            raise ValueError("HalfSpace normal must be non-zero.")
        object.__setattr__(self, "point", point)
        object.__setattr__(self, "normal", tuple(float(n) for n in np.array(normal) / norm))

    @property
    def dim(self) -> int:
        return len(self.point)

    def inside(self, points) -> np.ndarray:
        x = _as_points(points, self.dim)
        p = np.array(self.point)
        scale = np.maximum(np.max(np.abs(x), axis=1, initial=0.0), np.max(np.abs(p)))
        return (x - p) @ np.array(self.normal) <= REL_TOL * scale

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Infinite except along an axis-aligned normal, where one side is the plane."""
        lo = np.full(self.dim, -np.inf)
        hi = np.full(self.dim, np.inf)
        axes = np.flatnonzero(np.array(self.normal))
        if axes.size == 1:
            a = axes[0]
            if self.normal[a] > 0:
                hi[a] = self.point[a]
            else:
                lo[a] = self.point[a]
        return lo, hi

    def min_feature_size(self) -> float:
        """A half-space has no finite feature."""
        return float("inf")


@dataclass(frozen=True)
class Polygon:
    """Simple 2D polygon with ``vertices`` in metres, listed in either orientation."""

    vertices: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        v = np.asarray(self.vertices, dtype=np.float64)
        if v.ndim != 2 or v.shape[1] != 2:
            raise ValueError(f"Polygon vertices must have shape (N, 2), got {v.shape}.")
        if v.shape[0] < 3:
            raise ValueError(f"Polygon needs at least 3 vertices, got {v.shape[0]}.")
        if not np.all(np.isfinite(v)):
            raise ValueError("Polygon vertices must be finite.")
        if self._signed_area(v) == 0.0:
            raise ValueError("Polygon has zero area.")
        object.__setattr__(self, "vertices", tuple((float(x), float(y)) for x, y in v))

    @staticmethod
    def _signed_area(v: np.ndarray) -> float:
        x, y = v[:, 0], v[:, 1]
        return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))

    @property
    def dim(self) -> int:
        return 2

    @cached_property
    def _normalised(self) -> tuple["_MplPath", np.ndarray, float]:
        """Counter-clockwise path in coordinates centred on the bounding box and scaled to unit size.

        Matplotlib's ``contains_points(radius=r)`` grows a counter-clockwise path
        by ``r`` for ``r > 0`` (and shrinks a clockwise one), so the orientation
        is fixed first; working at unit scale keeps the radius meaningful to
        matplotlib whatever the size in metres.
        """
        v = np.array(self.vertices)
        if self._signed_area(v) < 0:
            v = v[::-1]
        lo, hi = self.bounds()
        origin = 0.5 * (lo + hi)
        scale = float(np.max(hi - lo))
        unit = (v - origin) / scale
        from matplotlib.path import Path as _MplPath  # imported when a polygon is used (start-up time)

        return _MplPath(np.vstack([unit, unit[:1]]), closed=True), origin, scale

    def inside(self, points) -> np.ndarray:
        x = _as_points(points, 2)
        path, origin, scale = self._normalised
        radius = REL_TOL * max(1.0, np.max(np.abs(origin)) / scale)
        return path.contains_points((x - origin) / scale, radius=radius)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        v = np.array(self.vertices)
        return v.min(axis=0), v.max(axis=0)

    def min_feature_size(self) -> float:
        """Length of the shortest edge."""
        v = np.array(self.vertices)
        return float(np.min(np.linalg.norm(np.roll(v, -1, axis=0) - v, axis=1)))


def _stl_format_problem(path: str) -> str | None:
    """Describe why ``path`` is neither a binary nor an ASCII STL file, or return None.

    trimesh's STL reader silently returns an empty mesh for arbitrary bytes, so
    the container format is checked here: a binary STL is 84 header bytes plus
    50 bytes per triangle (the count is stored in bytes 80-84); an ASCII STL is
    text that starts with ``solid`` and contains ``endsolid``.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        head = fh.read(84)
        if size >= 84 and size == 84 + 50 * int.from_bytes(head[80:84], "little"):
            return None
        fh.seek(max(0, size - 4096))
        tail = fh.read()
    if head.lstrip().lower().startswith(b"solid") and b"endsolid" in tail.lower() and b"\0" not in head:
        return None
    return (
        "is not an STL file (neither a binary STL whose size matches its triangle count "
        "nor an ASCII STL with a solid ... endsolid block)"
    )


class _ParityRayCaster:
    """Even-odd test for a closed triangle mesh with rays cast along +z.

    A point is inside when the number of triangles crossed by the ray going up
    from it is odd.  The ray's x-y position is perturbed symbolically by
    ``eps * (1, delta)`` (eps >> delta > 0, both infinitesimal) so that a ray
    through an edge or vertex of the projected triangles falls into exactly one
    of them; edge functions are evaluated with a canonical vertex order so the
    two triangles sharing an edge see exactly opposite values.  A crossing at
    the point's own height is not counted (the point is treated as lying just
    above it).
    """

    def __init__(self, vertices: np.ndarray, faces: np.ndarray) -> None:
        tail = faces
        head = np.roll(faces, -1, axis=1)
        lo, hi = np.minimum(tail, head), np.maximum(tail, head)
        xy = vertices[:, :2]
        # Edge k of each triangle runs from its vertex k to vertex k+1; the edge
        # function is computed from the lower-indexed end and its sign flipped
        # when the triangle runs the edge backwards.
        self._origin = xy[lo]  # (F, 3, 2)
        self._delta = xy[hi] - xy[lo]  # (F, 3, 2)
        self._flip = np.where(tail < head, 1.0, -1.0)  # (F, 3)
        # Sign of the edge function at a point exactly on the edge line, from
        # the perturbation eps * (1, delta): -dy, or dx when the edge is horizontal.
        dx, dy = self._delta[..., 0], self._delta[..., 1]
        self._tie = np.where(dy != 0, -np.sign(dy), np.sign(dx)) * self._flip
        # Weight of edge k is the barycentric weight of the opposite vertex k+2.
        self._z_opposite = np.roll(vertices[faces, 2], -2, axis=1)

        tri_lo = xy[faces].min(axis=1)
        tri_hi = xy[faces].max(axis=1)
        self._grid_lo = tri_lo.min(axis=0)
        self._grid_hi = tri_hi.max(axis=0)
        self._n = int(np.clip(np.sqrt(len(faces)), 1, 1024))
        self._cell = (self._grid_hi - self._grid_lo) / self._n
        i0, i1 = self._cell_index(tri_lo), self._cell_index(tri_hi)
        span = i1 - i0 + 1
        count = span[:, 0] * span[:, 1]
        tri = np.repeat(np.arange(len(faces)), count)
        local = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        ix = i0[tri, 0] + local % span[tri, 0]
        iy = i0[tri, 1] + local // span[tri, 0]
        cell = ix * self._n + iy
        order = np.argsort(cell, kind="stable")
        self._cell_tris = tri[order]
        self._cell_start = np.searchsorted(cell[order], np.arange(self._n * self._n + 1))

    def _cell_index(self, xy: np.ndarray) -> np.ndarray:
        idx = np.floor((xy - self._grid_lo) / self._cell).astype(np.int64)
        return np.clip(idx, 0, self._n - 1)

    def _crossings(self, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Column index and height of every crossing of the rays from ``columns`` (C, 2)."""
        on_grid = np.all((columns >= self._grid_lo) & (columns <= self._grid_hi), axis=1)
        col = np.flatnonzero(on_grid)
        ij = self._cell_index(columns[col])
        cell = ij[:, 0] * self._n + ij[:, 1]
        first = self._cell_start[cell]
        count = self._cell_start[cell + 1] - first
        pair_col = np.repeat(col, count)
        local = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        tri = self._cell_tris[np.repeat(first, count) + local]

        p = columns[pair_col][:, None, :]
        o, d = self._origin[tri], self._delta[tri]
        w = (d[..., 0] * (p[..., 1] - o[..., 1]) - d[..., 1] * (p[..., 0] - o[..., 0])) * self._flip[tri]
        s = np.where(w != 0, np.sign(w), self._tie[tri])
        hit = (s[:, 0] != 0) & (s[:, 0] == s[:, 1]) & (s[:, 1] == s[:, 2])
        w = w[hit]
        z = np.einsum("ij,ij->i", w, self._z_opposite[tri[hit]]) / w.sum(axis=1)
        return pair_col[hit], z

    def contains(self, points: np.ndarray, tol: float) -> np.ndarray:
        """True where any of the eight points ``points + tol * (+-1, +-1, +-1)`` is inside."""
        # Points sharing x and y share a ray: cast one per distinct column.
        columns, column_of = np.unique(points[:, 0] + 1j * points[:, 1], return_inverse=True)
        columns = np.column_stack([columns.real, columns.imag])
        column_of = column_of.ravel().astype(np.float64)
        inside = np.zeros(len(points), dtype=bool)
        for shift_x in (-tol, tol):
            for shift_y in (-tol, tol):
                col, z = self._crossings(columns + (shift_x, shift_y))
                # Complex numbers sort by real then imaginary part: (column, height).
                key = np.sort(col + 1j * z)
                column_end = np.searchsorted(key.real, column_of, side="right")
                for shift_z in (-tol, tol):
                    first_above = np.searchsorted(key, column_of + 1j * (points[:, 2] + shift_z), side="right")
                    inside |= (column_end - first_above) % 2 == 1
        return inside


@dataclass(frozen=True)
class StlMesh:
    """Closed mesh from an STL file; vertices are multiplied by ``scale`` (to metres), then shifted by ``translate``."""

    path: str
    scale: float = 1.0
    translate: tuple[float, float, float] = (0.0, 0.0, 0.0)
    _mesh: trimesh.Trimesh = field(init=False, repr=False, compare=False)
    _caster: _ParityRayCaster = field(init=False, repr=False, compare=False)
    _tol: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        path = os.fspath(self.path)
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "scale", _positive(self.scale, "StlMesh scale"))
        object.__setattr__(self, "translate", _vector(self.translate, "StlMesh translate", dims=(3,)))
        if not os.path.isfile(path):
            raise GeometryError(f"STL file {path!r} does not exist.")
        try:
            problem = _stl_format_problem(path)
            import trimesh  # imported when an STL is read: a large share of start-up otherwise (docs/benchmarks.md)

            mesh = None if problem else trimesh.load(path, file_type="stl", force="mesh")
        except (OSError, ValueError) as exc:
            raise GeometryError(f"STL file {path!r} cannot be read: {exc}.") from exc
        if problem:
            raise GeometryError(f"STL file {path!r} {problem}.")
        if len(mesh.faces) == 0:
            raise GeometryError(f"STL file {path!r} contains no triangles.")
        if not mesh.is_watertight:
            raise GeometryError(f"STL file {path!r} is not a closed (watertight) surface, so it has no inside.")
        if not np.all(mesh.extents > 0):
            raise GeometryError(f"STL file {path!r} is flat, so it encloses no volume.")
        scaled = np.asarray(mesh.vertices, dtype=np.float64) * self.scale
        mesh.vertices = scaled + np.array(self.translate)
        object.__setattr__(self, "_mesh", mesh)
        object.__setattr__(self, "_caster", _ParityRayCaster(np.asarray(mesh.vertices), np.asarray(mesh.faces)))
        object.__setattr__(self, "_tol", STL_REL_TOL * float(np.max(np.abs(scaled))))

    @property
    def dim(self) -> int:
        return 3

    @property
    def mesh(self) -> trimesh.Trimesh:
        """The loaded mesh in metres (shared, do not modify)."""
        return self._mesh

    def inside(self, points) -> np.ndarray:
        x = _as_points(points, 3)
        out = np.empty(len(x), dtype=bool)
        for start in range(0, len(x), STL_CHUNK):
            out[start : start + STL_CHUNK] = self._caster.contains(x[start : start + STL_CHUNK], self._tol)
        return out

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        b = np.array(self._mesh.bounds, dtype=np.float64)
        return b[0], b[1]

    def min_feature_size(self) -> float:
        """Smallest extent of the mesh's bounding box."""
        lo, hi = self.bounds()
        return float(np.min(hi - lo))
