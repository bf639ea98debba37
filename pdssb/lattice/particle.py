"""The seed-003 cell: a polycrystalline NCM111 secondary particle in a composite-cathode box (ECBD), an LLZO
separator (ED) and a Li anode, in 3D or as a 2D section through the particle centre.

Microstructure (seed 003, sec. 2): a secondary particle of radius 5 µm made of 53 primary grains whose shapes
and crystal orientations are "randomly generated through Voronoi tessellation". The grain centres are drawn
uniformly in the sphere (NumPy's PCG64 from the seed): a Poisson–Voronoi tessellation clipped to the particle.
The paper's grains range "from 0.1 to 3 µm". That cannot be the equivalent diameter: 53 grains fill the
523.6 µm³ sphere only if their mean-volume diameter is 2.66 µm. As equivalent *radii* it holds: the clipped
Poisson–Voronoi cells have radii of about 0.5–2.1 µm (docs/cathode.md), and the sizes are read that way.
Each grain gets a uniformly distributed rotation R (Haar measure, scipy's ``Rotation.random``); its columns
are the crystal axes [100], [010], [001] in the lab frame, so a grain-frame tensor T becomes R T Rᵀ. The
microstructure is a continuum object: a lattice of any spacing samples it (each site takes the grain of its
nearest centre), so a seed fixes the particle at every resolution and in both the 3D cell and its section.

The cell (seed 003, Figure 1; its sizes are drawn in the figure, not written in the text). Stacking along x:
the cathode current collector is the plane x = 0 (the paper's "left boundary": the current enters there and
it is mechanically fixed), then the composite cathode (ECBD with the particle at its centre), the LLZO
electrolyte domain and the Li anode. The square cross-section W × W follows from the text: the areal capacity
0.295 mAh cm⁻² and the 1C current, which drains the 21.456 pmol the particle gives up in 3 103 s, give
W² = 2.26·10⁻¹⁰ m², W = 15.0 µm (docs/cathode.md). The cathode, separator and anode thicknesses are not in
the text; the defaults (15, 5 and 1 µm) are assumptions recorded in docs/cathode.md.

The 2D variant is the section z = z_c through the particle centre: a disc of radius 5 µm whose sites take the
grain of the nearest 3D centre, so each section grain keeps the orientation of its 3D grain; in-plane tensors
are the x–y blocks of the 3D lab-frame tensors (:meth:`Cell.tensors`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .grains import GrainMap, equivalent_diameter, grains_from_labels
from .grid import Lattice
from .stencil import Stencil

#: material ids of the cell's sites (0 is outside the lattice's bodies: void)
ECBD, NCM, LLZO, LI = 1, 2, 3, 4
MATERIAL_NAMES = {ECBD: "ECBD", NCM: "NCM111", LLZO: "LLZO", LI: "Li"}


@dataclass(frozen=True)
class CellSpec:
    """Sizes (m) and microstructure of the seed-003 cell."""

    particle_radius: float = 5.0e-6  # seed 003, sec. 2
    grains: int = 53  # seed 003, sec. 2
    width: float = 15.0e-6  # square cross-section, from the areal capacity and the 1C current
    cathode_thickness: float = 15.0e-6  # assumed: a cube of ECBD around the particle
    separator_thickness: float = 5.0e-6  # assumed
    anode_thickness: float = 1.0e-6  # assumed: the Li metal is an equipotential; a thin layer suffices
    seed: int = 0

    def __post_init__(self) -> None:
        if not (self.particle_radius > 0 and self.width > 0 and self.cathode_thickness > 0):
            raise ValueError("particle radius, width and cathode thickness must be positive")
        if self.separator_thickness < 0 or self.anode_thickness < 0:
            raise ValueError("separator and anode thicknesses must be ≥ 0")
        if 2 * self.particle_radius > min(self.width, self.cathode_thickness):
            raise ValueError("the particle does not fit in the composite-cathode box")
        if self.grains < 1:
            raise ValueError("a particle needs at least one grain")

    @property
    def length(self) -> float:
        """Extent along x (m): cathode + separator + anode."""
        return self.cathode_thickness + self.separator_thickness + self.anode_thickness

    @property
    def particle_centre(self) -> np.ndarray:
        return np.array([0.5 * self.cathode_thickness, 0.5 * self.width, 0.5 * self.width])


def random_rotations(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 3, 3) rotation matrices uniformly distributed on SO(3)."""
    from scipy.spatial.transform import Rotation

    return Rotation.random(n, random_state=rng).as_matrix()


def _points_in_sphere(n: int, radius: float, rng: np.random.Generator) -> np.ndarray:
    v = rng.normal(size=(n, 3))
    v /= np.linalg.norm(v, axis=1)[:, None]
    return v * radius * np.cbrt(rng.uniform(size=n))[:, None]


@dataclass(frozen=True)
class Microstructure:
    """Grain centres and orientations of one secondary particle (lab frame, m)."""

    centre: np.ndarray  # (3,)
    radius: float
    grain_centres: np.ndarray  # (G, 3)
    rotations: np.ndarray  # (G, 3, 3): columns are the crystal axes [100], [010], [001]
    _tree: object = field(default=None, repr=False, compare=False)

    @property
    def n_grains(self) -> int:
        return len(self.grain_centres)

    @property
    def c_axes(self) -> np.ndarray:
        """(G, 3) unit vectors along each grain's [001]."""
        return self.rotations[:, :, 2]

    def grain_of(self, x: np.ndarray) -> np.ndarray:
        """Index (0..G−1) of the grain whose centre is nearest to each point of ``x`` (n, 3)."""
        return self._tree.query(np.asarray(x, dtype=np.float64), k=1)[1].astype(np.int64)

    def inside(self, x: np.ndarray) -> np.ndarray:
        d = np.asarray(x, dtype=np.float64) - self.centre
        return np.einsum("ij,ij->i", d, d) < self.radius * self.radius

    def lab_tensors(self, principal: np.ndarray) -> np.ndarray:
        """(G, 3, 3): R diag(principal) Rᵀ for each grain; ``principal`` along [100], [010], [001]."""
        p = np.asarray(principal, dtype=np.float64)
        return np.einsum("gik,k,gjk->gij", self.rotations, p, self.rotations)

    def plane_strain_eigenstrain(self, principal: np.ndarray, nu: float) -> np.ndarray:
        """(G, 2, 2): the in-plane eigenstrain that gives a plane-strain section z = const the stresses of
        the 3D body.

        With ε_zz = 0, σ_αβ = λ(ε_γγ − ε*_γγ − ε*_zz) δ_αβ + 2μ (ε_αβ − ε*_αβ). A 2D law with eigenstrain e*
        gives λ(ε_γγ − e*_γγ) δ + 2μ(ε − e*); the two agree for e* = ε*_xy + a I with 2a(λ + μ) = λ ε*_zz,
        i.e. a = ν ε*_zz. ``principal`` is per unit Δc along the crystal axes.
        """
        t = self.lab_tensors(principal)
        return t[:, :2, :2] + float(nu) * t[:, 2, 2][:, None, None] * np.eye(2)


def draw_microstructure(centre: np.ndarray, radius: float, grains: int, seed: int) -> Microstructure:
    """A seeded particle of ``grains`` Voronoi grains: centres uniform in the sphere of ``radius`` (m) about
    ``centre`` (3,), rotations uniform on SO(3). The draw is relative to the centre, so one seed gives the
    same grains wherever the particle sits (the 3D cell and its section share them)."""
    from scipy.spatial import cKDTree

    centre = np.asarray(centre, dtype=np.float64)
    rng = np.random.default_rng(seed)
    centres = _points_in_sphere(grains, radius, rng)
    rotations = random_rotations(grains, rng)
    centres = centres + centre
    return Microstructure(centre, float(radius), centres, rotations, cKDTree(centres))


def make_microstructure(spec: CellSpec) -> Microstructure:
    """The seeded microstructure of ``spec``: Voronoi centres uniform in the sphere and uniform rotations."""
    return draw_microstructure(spec.particle_centre, spec.particle_radius, spec.grains, spec.seed)


@dataclass(frozen=True)
class Cell:
    """A lattice of the cell: material id and grain of every site."""

    spec: CellSpec
    micro: Microstructure
    lattice: Lattice
    material: np.ndarray  # (n_sites,) int8: ECBD, NCM, LLZO, LI
    grain: np.ndarray  # (n_sites,) int64: grain index 0..G−1 on NCM sites, −1 elsewhere
    thickness: float | None  # 2D: out-of-plane thickness (m); 3D: None

    @property
    def dim(self) -> int:
        return self.lattice.dim

    def mask(self, material_id: int) -> np.ndarray:
        return self.material == material_id

    def grains_present(self) -> np.ndarray:
        """Indices of the grains that hold at least one site."""
        return np.unique(self.grain[self.grain >= 0])

    def grain_radii(self) -> np.ndarray:
        """Equivalent radius (m) of each grain present: of the sphere (3D) or disc (2D) of its sites."""
        counts = np.bincount(self.grain[self.grain >= 0], minlength=self.micro.n_grains)
        v = counts[counts > 0] * self.lattice.dx ** self.dim
        return np.cbrt(3.0 * v / (4.0 * math.pi)) if self.dim == 3 else np.sqrt(v / math.pi)

    def grain_map(self, stencil: Stencil, first_free_id: int = max(MATERIAL_NAMES) + 1) -> GrainMap:
        """The NCM grains as colour pseudo ids (lattice/grains.py), so that grain-boundary bonds get their own
        constants from the pair table; grain g of the map is the microstructure's grain ``grains_present()[g−1]``."""
        mean_volume = 4.0 / 3.0 * math.pi * self.micro.radius**3 / self.micro.n_grains
        return grains_from_labels(self.lattice, stencil, self.material.astype(np.int32), NCM, first_free_id,
                                  self.grain[self.material == NCM], self.micro.grain_centres,
                                  float(equivalent_diameter(mean_volume, 3)))

    def tensors(self, principal: np.ndarray) -> np.ndarray:
        """(G, d, d) lab-frame tensors of every grain; in 2D the x–y block (the section plane's projection).

        This is the in-plane diffusivity of the section (no gradient along z). An eigenstrain needs
        :meth:`plane_strain_eigenstrain` instead: the out-of-plane component acts in plane strain too.
        """
        t = self.micro.lab_tensors(principal)
        return t if self.dim == 3 else t[:, :2, :2].copy()

    def plane_strain_eigenstrain(self, principal: np.ndarray, nu: float) -> np.ndarray:
        """(G, 2, 2): the section's in-plane eigenstrain (:meth:`Microstructure.plane_strain_eigenstrain`)."""
        if self.dim != 2:
            raise ValueError("the plane-strain eigenstrain belongs to the 2D section")
        return self.micro.plane_strain_eigenstrain(principal, nu)


def build_cell(spec: CellSpec, dx: float, dim: int = 3, halo: int = 0, thickness: float | None = None) -> Cell:
    """The cell on a lattice of spacing ``dx`` (m): 3D, or the 2D section z = z_c of given ``thickness`` (m)."""
    if dim not in (2, 3):
        raise ValueError("dim must be 2 or 3")
    if not dx > 0:
        raise ValueError("dx must be positive")
    if dim == 2 and not (thickness and thickness > 0):
        raise ValueError("the 2D section needs a positive thickness (m)")
    extent = [spec.length, spec.width, spec.width][:dim]
    shape = tuple(max(1, int(round(e / dx))) for e in extent)
    lattice = Lattice(shape, dx, halo)
    x = lattice.positions()
    if dim == 2:
        x = np.column_stack([x, np.full(len(x), spec.particle_centre[2])])
    micro = make_microstructure(spec)
    material = np.full(lattice.n_sites, ECBD, dtype=np.int8)
    material[x[:, 0] >= spec.cathode_thickness] = LLZO
    material[x[:, 0] >= spec.cathode_thickness + spec.separator_thickness] = LI
    inside = micro.inside(x)
    material[inside] = NCM
    grain = np.full(lattice.n_sites, -1, dtype=np.int64)
    grain[inside] = micro.grain_of(x[inside])
    return Cell(spec, micro, lattice, material, grain, thickness if dim == 2 else None)
