"""Surface defects: Li-filled pits cut into one face of the electrolyte.

These are the defect shapes of Liu et al., Adv. Mater. 35 (2023) 2301152.
The electrolyte is the rectangular domain ``[0, L_0] x [0, L_1] (x [0, L_2])``
in metres.  A defect sits on one of its faces, named ``"-x"``, ``"+x"``,
``"-y"``, ``"+y"``, ``"-z"``, ``"+z"``: ``"-y"`` is the face ``y = 0`` and the
pit goes into ``+y``; ``"+y"`` is the face ``y = L_1`` and the pit goes into
``-y``; likewise for x and z (z faces only in 3D).

``center`` is the full coordinate vector (2 or 3 components, which sets the
dimension) of the centre of the pit's mouth.  Its component along the face
normal is the face coordinate itself (0 for a ``-`` face, ``L`` for a ``+``
face): a defect does not know the domain size, so that component places the
mouth plane.

Shapes (in-face offset ``u`` from the centre, depth ``t >= 0`` into the body):

* :class:`SemiSphere` -- half disc (2D) / hemisphere (3D): ``|u|^2 + t^2 <= r^2``.
* :class:`SemiEllipsoid` -- half ellipse / half spheroid:
  ``|u|^2 / a^2 + t^2 / d^2 <= 1`` with in-face semi-axis ``a = half_width``.
* :class:`Pyramid` -- isosceles triangle (2D) / square pyramid (3D) with its
  base of side ``width`` on the face and its apex at depth ``height``;
  ``aspect_ratio = height / width``.
* :class:`Cube` -- square (2D) / square-mouthed box (3D) of side ``width`` and
  depth ``depth`` (default ``width``).

All share the shape interface of :mod:`pdssb.lattice.shapes` (``dim``,
``inside``, ``bounds``, ``min_feature_size``) plus ``depth``, ``mouth_width``
and ``volume(thickness=None)``: area times ``thickness`` in 2D (m^3 for a
plate of that thickness), volume in 3D.  Boundaries are inclusive with a
relative tolerance of 1e-12, so lattice sites on the face within the mouth
are inside, while points outside the body (behind the face) never are.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from pdssb.lattice.shapes import REL_TOL, _as_points, _positive, _vector

__all__ = ["FACES", "Cube", "FaceDefect", "Pyramid", "SemiEllipsoid", "SemiSphere"]

#: Face name -> (axis index, direction into the body).
FACES: dict[str, tuple[int, int]] = {
    "-x": (0, 1),
    "+x": (0, -1),
    "-y": (1, 1),
    "+y": (1, -1),
    "-z": (2, 1),
    "+z": (2, -1),
}


@dataclass(frozen=True)
class FaceDefect(ABC):
    """Common base of the pits: a ``face`` name and the ``center`` of the mouth in metres.

    Subclasses provide ``depth`` (extent into the body along the face normal)
    and ``mouth_width`` (width of the opening on the face), both in metres.
    """

    face: str
    center: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.face not in FACES:
            raise ValueError(f"Unknown face {self.face!r}; expected one of {', '.join(FACES)}.")
        center = _vector(self.center, f"{type(self).__name__} center")
        if FACES[self.face][0] >= len(center):
            raise ValueError(f"Face {self.face!r} does not exist in {len(center)}D.")
        object.__setattr__(self, "center", center)

    @property
    def dim(self) -> int:
        return len(self.center)

    @abstractmethod
    def _measure(self) -> float:
        """Exact area (2D, m^2) or volume (3D, m^3)."""

    @abstractmethod
    def _inside_local(self, t: np.ndarray, u: np.ndarray, tol: float) -> np.ndarray:
        """Inside-test in local coordinates: depth ``t`` (N,) and in-face offsets ``u`` (N, dim-1)."""

    def _tol(self) -> float:
        return REL_TOL * max(self.mouth_width, self.depth, np.max(np.abs(self.center)))

    def inside(self, points) -> np.ndarray:
        x = _as_points(points, self.dim) - np.array(self.center)
        axis, inward = FACES[self.face]
        t = inward * x[:, axis]
        u = np.delete(x, axis, axis=1)
        tol = self._tol()
        return (t >= -tol) & self._inside_local(t, u, tol)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        axis, inward = FACES[self.face]
        c = np.array(self.center)
        lo, hi = c - 0.5 * self.mouth_width, c + 0.5 * self.mouth_width
        lo[axis], hi[axis] = sorted((c[axis], c[axis] + inward * self.depth))
        return lo, hi

    def min_feature_size(self) -> float:
        """The smaller of mouth width and depth."""
        return min(self.mouth_width, self.depth)

    def volume(self, thickness: float | None = None) -> float:
        """Exact volume in m^3: area x ``thickness`` in 2D (required), the 3D volume otherwise."""
        if self.dim == 2:
            if thickness is None:
                raise ValueError("A 2D defect needs the plate thickness to have a volume.")
            return self._measure() * _positive(thickness, "thickness")
        if thickness is not None:
            raise ValueError("thickness only applies to 2D defects.")
        return self._measure()


@dataclass(frozen=True)
class SemiSphere(FaceDefect):
    """Half disc (2D) or hemisphere (3D) of ``radius`` metres."""

    radius: float

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "radius", _positive(self.radius, "SemiSphere radius"))

    @property
    def depth(self) -> float:
        return self.radius

    @property
    def mouth_width(self) -> float:
        return 2.0 * self.radius

    def _measure(self) -> float:
        r = self.radius
        return 0.5 * math.pi * r**2 if self.dim == 2 else 2.0 / 3.0 * math.pi * r**3

    def _inside_local(self, t, u, tol):
        return np.einsum("ij,ij->i", u, u) + t**2 <= (self.radius + tol) ** 2


@dataclass(frozen=True)
class SemiEllipsoid(FaceDefect):
    """Half ellipse (2D) / half spheroid (3D): in-face semi-axis ``half_width``, normal semi-axis ``depth``, metres."""

    half_width: float
    depth: float

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "half_width", _positive(self.half_width, "SemiEllipsoid half_width"))
        object.__setattr__(self, "depth", _positive(self.depth, "SemiEllipsoid depth"))

    @property
    def mouth_width(self) -> float:
        return 2.0 * self.half_width

    def _measure(self) -> float:
        a, d = self.half_width, self.depth
        return 0.5 * math.pi * a * d if self.dim == 2 else 2.0 / 3.0 * math.pi * a * a * d

    def _inside_local(self, t, u, tol):
        q = np.einsum("ij,ij->i", u, u) / self.half_width**2 + (t / self.depth) ** 2
        return q <= (1.0 + tol / min(self.half_width, self.depth)) ** 2


@dataclass(frozen=True)
class Pyramid(FaceDefect):
    """Isosceles triangle (2D) or square pyramid (3D): base ``width`` on the face, apex at depth ``height``, metres.

    ``aspect_ratio = height / width``; give it with one or both of ``width``
    and ``height`` (both must then agree with it to 1e-9 relative).
    """

    aspect_ratio: float
    width: float | None = None
    height: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        ar = _positive(self.aspect_ratio, "Pyramid aspect_ratio")
        if self.width is None and self.height is None:
            raise ValueError("Pyramid needs width or height (or both) besides aspect_ratio.")
        width = None if self.width is None else _positive(self.width, "Pyramid width")
        height = None if self.height is None else _positive(self.height, "Pyramid height")
        if width is None:
            width = height / ar
        elif height is None:
            height = ar * width
        elif not math.isclose(height / width, ar, rel_tol=1e-9, abs_tol=0.0):
            raise ValueError(
                f"Pyramid height / width = {height / width!r} disagrees with aspect_ratio = {ar!r}."
            )
        object.__setattr__(self, "aspect_ratio", ar)
        object.__setattr__(self, "width", width)
        object.__setattr__(self, "height", height)

    @property
    def depth(self) -> float:
        return self.height

    @property
    def mouth_width(self) -> float:
        return self.width

    @property
    def vertex_angle_deg(self) -> float:
        """Full opening angle at the apex, 2 atan(1 / (2 AR)), in degrees."""
        return math.degrees(2.0 * math.atan(1.0 / (2.0 * self.aspect_ratio)))

    def _measure(self) -> float:
        w, h = self.width, self.height
        return 0.5 * w * h if self.dim == 2 else w * w * h / 3.0

    def _inside_local(self, t, u, tol):
        half = 0.5 * self.width * (1.0 - t / self.height)
        return (t <= self.height + tol) & (np.max(np.abs(u), axis=1) <= half + tol)


@dataclass(frozen=True)
class Cube(FaceDefect):
    """Square (2D) or square-mouthed box (3D) pit of side ``width`` and ``depth`` (default ``width``), metres."""

    width: float
    depth: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        width = _positive(self.width, "Cube width")
        object.__setattr__(self, "width", width)
        object.__setattr__(self, "depth", width if self.depth is None else _positive(self.depth, "Cube depth"))

    @property
    def mouth_width(self) -> float:
        return self.width

    def _measure(self) -> float:
        return self.width ** (self.dim - 1) * self.depth

    def _inside_local(self, t, u, tol):
        return (t <= self.depth + tol) & (np.max(np.abs(u), axis=1) <= 0.5 * self.width + tol)
