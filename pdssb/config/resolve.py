"""From a validated scene to everything a run needs: materials, lattice, ids, regions, BCs.

This is where the physics checks live (the schema only checks form): Poisson ratios that
bond-based PD cannot represent, a lattice too coarse for a defect, references to undefined
materials or regions, STL files that do not load or escape the scene folder, and lattices
too large for memory (refused before anything is allocated, with the estimate).
Each problem is an :class:`~pdssb.errors.InputError` naming the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..lattice import defects as dfx
from ..lattice import precrack as pcx
from ..lattice import shapes as shp
from ..lattice.grains import GrainMap, build_grains, grain_volume
from ..lattice.grid import Lattice
from ..lattice.stencil import Stencil
from ..electrochem.ocv import ActiveMaterial
from ..lattice.particle import Microstructure
from ..materials import DEFAULT_REFERENCE_TEMPERATURE_K, TEMPERATURE_TOLERANCE_K, arrhenius_factor, get_material
from ..mechanics.bond_laws import LawError
from ..mechanics.bond_table import (BondTable, GrainBoundarySpec, MaterialSpec, PairLaw, build_bond_table, kappa_for,
                                    with_fluid_li)
from ..mechanics.pmb import PD_POISSON, site_volume
from .schema import Damage, Scene

VOID = "void"
DEFAULT_THICKNESS_M = 1e-6
MAX_SITES = 2**31 - 1  # flat indices are 32-bit in the kernels
_UNIT_SCALE = {"m": 1.0, "mm": 1e-3, "um": 1e-6, "nm": 1e-9}


@dataclass
class Setup:
    """A scene resolved onto a lattice: the input of a run."""

    scene: Scene  # with library materials and defaults filled in
    base_dir: Path
    setting: str  # "3d" | "strain" | "stress"
    thickness: float | None
    stencil: Stencil
    lattice: Lattice
    names: list[str]  # material names, index 1..n
    materials: list[MaterialSpec]
    material_ids: np.ndarray  # (n_sites,) 0 = void
    regions: dict[str, np.ndarray]  # name -> bool mask (n_sites,)
    fixmask: np.ndarray
    u_bc: np.ndarray
    v_bc: np.ndarray
    body: np.ndarray  # N m^-3 at full load
    eigenstrain: np.ndarray  # (n_sites,) ε* at full load
    table: BondTable
    kappa: np.ndarray | None = None  # (n_sites,) ionic conductivity κ(T) at the run's temperature, S m^-1
    counter_electrode: np.ndarray | None = None  # (n_sites,) bool
    # electrolyte name -> κ_ref, T_ref, E_a, κ(T) (electrochem scenes)
    conductivity: dict = field(default_factory=dict)
    grains: GrainMap | None = None  # [grains]: Voronoi grain ids and the bond ids of the polycrystal
    precrack_cuts: np.ndarray | None = None  # [[precracks]]: the bonds they cut (rows of lattice.precrack.cut_bonds)
    fluid: np.ndarray | None = None  # (n_sites,) bool: the Li sites that are fluid (li_mechanics = "fluid")
    cathode: CathodeSetup | None = None  # [cathode]: the particle, its grains and the cell's constants

    @property
    def mechanics_ids(self) -> np.ndarray:
        """The ids the bond kernels index the pair table with: material ids, except that the grains of a
        polycrystalline material carry pseudo ids (one per grain colour) whose pairs are grain-boundary bonds,
        and fluid Li sites carry the fluid pseudo id (no bond force: mechanics/fluid.py)."""
        ids = self.grains.bond_ids if self.grains is not None else self.material_ids
        if self.fluid is not None:
            ids = np.where(self.fluid, self.table.fluid_id, ids).astype(ids.dtype)
        return ids

    @property
    def grain_ids(self) -> np.ndarray | None:
        """(n_sites,) grain number (1..n_grains) of each site of the polycrystalline material, 0 elsewhere."""
        return self.grains.grain_ids if self.grains is not None else None

    def roles_by_id(self) -> list[str]:
        """The role of every id of the pair table (void first), grain pseudo ids included."""
        roles = ["void"] + [m.role for m in self.materials]
        if self.grains is not None:
            roles += [roles[self.grains.material_id]] * len(self.grains.pseudo_ids)
        if self.table.fluid_id is not None:
            roles.append("lithium")
        return roles

    @property
    def volume(self) -> float:
        return site_volume(self.lattice.dx, self.lattice.dim, self.thickness)


@dataclass
class CathodeSetup:
    """What a [cathode] scene adds: material ids of the cell's phases, the particle's grains and its constants."""

    particle: int  # material ids
    matrix: int
    separator: int
    anode: int
    micro: Microstructure  # grain centres and rotations (3D, lab frame)
    grain: np.ndarray  # (n_sites,) grain 0..G−1 on particle sites, −1 elsewhere
    material: ActiveMaterial  # the particle's intercalation data (NCM111 with the scene's values)
    kappa: np.ndarray  # (n_sites,) ionic conductivity (S m^-1) of the matrix and separator sites, 0 elsewhere
    conductivity: dict  # electrolyte name -> κ info (conductivity_at)
    gap_length: float  # m: δ_c of R_int = R_0 exp(D_G/δ_c)
    diffusion_horizon: float  # m of the diffusion stencil


def bytes_per_site(dim: int, precision: str, words: int, damage_codes: int = 0) -> int:
    """Bytes of device memory per padded site held by MechanicsModel (measured by construction);
    ``damage_codes``: the stencil size when bonds soften (a 16-bit damage code per bond end)."""
    f = 8 if precision == "f64" else 4
    vectors = 8 * dim * f  # u v force force_old body u_bc v_bc gcorr
    scalars = 7 * f  # eps lam fabs dmg dissipated vm hyd
    sigma = (3 if dim == 2 else 6) * f
    return vectors + scalars + sigma + 4 + 4 + 2 * 4 * words + 2 * damage_codes  # bond bits, allowed bits, damage


def _available_memory() -> int:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 16 * 2**30


def _material_spec(name: str, m, setting: str) -> MaterialSpec:
    where = f"materials.{name}"
    lib = None
    if m.base is not None:
        try:
            lib = get_material(m.base)
        except KeyError as e:
            raise InputError(f"{where}.base", str(e.args[0]) if e.args else "unknown material") from None

    def pick(field, lib_value):
        v = getattr(m, field)
        if v is not None:
            return v
        if lib_value is None:
            raise InputError(f"{where}.{field}", "missing: give it here or name a library material in base")
        return lib_value

    role = m.role or (lib.role if lib else None)
    if role is None:
        raise InputError(f"{where}.role", "missing: electrolyte, lithium or other (or name a library material in base)")
    E = pick("youngs_modulus", lib.youngs_modulus.value if lib else None)
    nu = pick("poisson_ratio", lib.poisson_ratio.value if lib else None)
    rho = pick("density", lib.density.value if lib else None)
    mismatch = m.poisson_mismatch or ("match_bulk" if role == "lithium" else "error")
    gc = None
    if m.fracture_energy is not None:
        gc = m.fracture_energy
    else:
        kic = m.fracture_toughness
        if kic is None and lib is not None and lib.fracture_toughness is not None:
            kic = lib.fracture_toughness.value
        if kic is not None:
            gc = kic**2 * ((1.0 - nu**2) if setting != "stress" else 1.0) / E
    law, strength = "brittle", None
    if m.damage is not None:
        law, strength = m.damage.law, m.damage.strength
        if m.damage.fracture_energy is not None:
            if m.fracture_energy is not None or m.fracture_toughness is not None:
                raise InputError(f"{where}.damage.fracture_energy", "the material gives its fracture energy (or "
                                                                     "toughness) already: give it once")
            gc = m.damage.fracture_energy
        if law != "brittle" and gc is None:
            raise InputError(f"{where}.damage", f"law = \"{law}\" needs a fracture energy (here, or the "
                                                "material's fracture_energy or fracture_toughness)")
    if role == "electrolyte" and gc is None:
        raise InputError(where, "an electrolyte needs fracture_toughness or fracture_energy")
    nu_pd = PD_POISSON[setting]
    if mismatch == "error" and abs(nu - nu_pd) > 5e-3:
        kind = {"3d": "3D", "strain": "plane strain", "stress": "plane stress"}[setting]
        raise InputError(
            f"{where}.poisson_ratio",
            f"bond-based peridynamics can only represent nu = {nu_pd:.4g} in {kind} (every bond is a central "
            f"spring), got {nu:g}; use nu = {nu_pd:.4g}, or set poisson_mismatch = \"match_bulk\" (keep the bulk "
            f"modulus, as for confined Li) or \"match_young\"",
        )
    return MaterialSpec(name, role, E, nu, rho, gc, mismatch, law, strength)


def _vec(values, dim: int, where: str) -> np.ndarray:
    if len(values) != dim:
        raise InputError(where, f"needs {dim} components, got {len(values)}")
    return np.array(values, dtype=float)


def _safe_path(base_dir: Path, rel: str, where: str) -> Path:
    p = Path(rel)
    if p.is_absolute() or ".." in p.parts:
        raise InputError(where, "must be a relative path inside the scene's folder")
    full = (base_dir / p).resolve()
    if base_dir.resolve() not in full.parents and full != base_dir.resolve():
        raise InputError(where, "must stay inside the scene's folder")
    return full


def build_shape(spec, dim: int, base_dir: Path, where: str):
    try:
        if spec.type == "box":
            return shp.Box(_vec(spec.lo, dim, f"{where}.lo"), _vec(spec.hi, dim, f"{where}.hi"))
        if spec.type in ("sphere", "circle"):
            return shp.Sphere(_vec(spec.center, dim, f"{where}.center"), spec.radius)
        if spec.type in ("ellipsoid", "ellipse"):
            return shp.Ellipsoid(_vec(spec.center, dim, f"{where}.center"), _vec(spec.semi_axes, dim, f"{where}.semi_axes"))
        if spec.type == "half_space":
            return shp.HalfSpace(_vec(spec.point, dim, f"{where}.point"), _vec(spec.normal, dim, f"{where}.normal"))
        if spec.type == "polygon":
            if dim != 2:
                raise InputError(where, "polygons are 2D; use an STL mesh in 3D")
            return shp.Polygon([_vec(v, 2, f"{where}.vertices") for v in spec.vertices])
        if spec.type == "stl":
            if dim != 3:
                raise InputError(where, "STL meshes are 3D; use a polygon in 2D")
            path = _safe_path(base_dir, spec.path, f"{where}.path")
            return shp.StlMesh(str(path), _UNIT_SCALE[spec.unit], tuple(_vec(spec.translate, 3, f"{where}.translate")))
    except InputError:
        raise
    except (shp.GeometryError, ValueError) as e:
        field = f"{where}.path" if spec.type == "stl" else where
        raise InputError(field, str(e)) from None
    raise InputError(where, f"unknown shape {spec.type}")  # pragma: no cover - schema forbids it


def build_defect(spec, size: np.ndarray, where: str):
    axis, direction = dfx.FACES[spec.face]
    dim = len(size)
    if axis >= dim:
        raise InputError(f"{where}.face", f"face {spec.face} does not exist in {dim}D")
    if spec.center is None:  # centre of the face
        center = size / 2.0
        center[axis] = 0.0 if direction > 0 else size[axis]
    else:  # as given: its normal component places the mouth (e.g. on an electrolyte above a Li layer)
        center = _vec(spec.center, dim, f"{where}.center")
    try:
        if spec.type == "semi_sphere":
            return dfx.SemiSphere(spec.face, tuple(center), spec.radius)
        if spec.type == "semi_ellipsoid":
            return dfx.SemiEllipsoid(spec.face, tuple(center), spec.half_width, spec.depth)
        if spec.type == "pyramid":
            return dfx.Pyramid(spec.face, tuple(center), spec.aspect_ratio, spec.width, spec.height)
        return dfx.Cube(spec.face, tuple(center), spec.width, spec.depth)
    except ValueError as e:
        raise InputError(where, str(e)) from None


def _region_mask(name: str, r, x: np.ndarray, size: np.ndarray, delta: float, dx: float,
                 ids: np.ndarray, index: dict[str, int], base_dir: Path) -> np.ndarray:
    where = f"regions.{name}"
    dim = x.shape[1]
    if r.face is not None:
        axis, direction = dfx.FACES[r.face]
        if axis >= dim:
            raise InputError(f"{where}.face", f"face {r.face} does not exist in {dim}D")
        depth = r.depth if r.depth is not None else delta
        coord = x[:, axis] if direction > 0 else size[axis] - x[:, axis]
        mask = coord <= depth + 1e-9 * dx
    else:
        mask = build_shape(r.shape, dim, base_dir, f"{where}.shape").inside(x)
    mask &= ids != 0
    if r.material is not None:
        if r.material not in index:
            raise InputError(f"{where}.material", f"unknown material '{r.material}'")
        mask &= ids == index[r.material]
    if not mask.any():
        raise InputError(where, "selects no lattice site")
    return mask


def resolve(scene: Scene, base_dir: Path | str = ".", precision: str | None = None) -> Setup:
    base_dir = Path(base_dir)
    d = scene.domain
    dim = d.dim
    setting = "3d" if dim == 3 else d.plane
    thickness = (d.thickness or DEFAULT_THICKNESS_M) if dim == 2 else None
    size = np.array(d.size)
    n = [int(round(s / d.dx)) for s in size]
    if math.prod(n) > MAX_SITES:  # before anything is built from n (a TOML dx of 1e-300 um gives 1e300 sites)
        raise InputError("domain", f"{float(min(math.prod(n), 10**300)):.3g} sites exceed the 2^31 index limit")
    if any(abs(ni * d.dx - s) > 1e-6 * d.dx for ni, s in zip(n, size)):
        raise InputError("domain.dx", "must divide every domain size into a whole number of sites")
    stencil = Stencil(dim, d.m, d.partial_volume)
    lattice = Lattice(tuple(n), d.dx, halo=stencil.reach)
    precision = precision or scene.solver.precision
    if lattice.n_padded > MAX_SITES:
        raise InputError("domain", f"{lattice.n_padded:.3g} sites exceed the 2^31 index limit")
    softening = any(m.damage is not None and m.damage.law != "brittle" for m in scene.materials.values()) or \
        any(i.damage is not None and i.damage.law != "brittle" for i in scene.interfaces)
    need = lattice.n_padded * bytes_per_site(dim, precision, stencil.words, stencil.size if softening else 0)
    avail = _available_memory()
    if need > 0.8 * avail:
        raise InputError("domain", f"needs about {need / 2**30:.1f} GiB for {lattice.n_padded:.3g} sites; "
                                   f"{avail / 2**30:.1f} GiB available (coarsen dx or shrink the domain)")

    names = [k for k in scene.materials if k != VOID]
    if VOID in scene.materials:
        raise InputError(f"materials.{VOID}", "'void' is reserved for empty space")
    materials = [_material_spec(k, scene.materials[k], setting) for k in names]
    index = {k: i + 1 for i, k in enumerate(names)}
    index[VOID] = 0

    interfaces: dict[tuple[int, int], float | PairLaw | None] = {}
    for q, itf in enumerate(scene.interfaces):
        a, b = itf.materials
        for mname in (a, b):
            if mname not in index or mname == VOID:
                raise InputError(f"interfaces[{q}].materials", f"unknown material '{mname}'")
        key = (min(index[a], index[b]), max(index[a], index[b]))
        gc = itf.fracture_energy if itf.damage is None or itf.damage.fracture_energy is None else itf.damage.fracture_energy
        if itf.breakable and gc is None:
            raise InputError(f"interfaces[{q}]", "a breakable interface needs fracture_energy")
        if not itf.breakable:
            interfaces[key] = None
        elif itf.damage is not None and itf.damage.law != "brittle":
            interfaces[key] = PairLaw(itf.damage.law, gc, itf.damage.strength)
        else:
            interfaces[key] = gc

    x = lattice.positions()
    ids = np.zeros(lattice.n_sites, dtype=np.int32)
    for q, body in enumerate(scene.bodies):
        if body.material not in index:
            raise InputError(f"bodies[{q}].material", f"unknown material '{body.material}'")
        mask = np.ones(len(x), bool) if body.shape is None else build_shape(body.shape, dim, base_dir, f"bodies[{q}].shape").inside(x)
        ids[mask] = index[body.material]
    for q, spec in enumerate(scene.defects):
        where = f"defects[{q}]"
        if spec.fill not in index:
            raise InputError(f"{where}.fill", f"unknown material '{spec.fill}'")
        shape = build_defect(spec, size, where)
        feature = shape.min_feature_size()
        if feature < 2.0 * d.dx:
            raise InputError(where, f"smallest size {feature * 1e6:.4g} um is under 2 lattice spacings "
                                    f"(dx = {d.dx * 1e6:.4g} um): refine dx to resolve the defect")
        ids[shape.inside(x)] = index[spec.fill]
    if not (ids != 0).any():
        raise InputError("bodies", "no lattice site holds any material")

    cathode_grain, micro = (None, None) if scene.cathode is None else _paint_cathode(scene, lattice, ids, index)
    cuts = _resolve_precracks(scene, lattice, stencil, ids, size)
    grain_map, gb_spec = (None, None) if scene.grains is None else _resolve_grains(
        scene.grains, lattice, stencil, ids, index, materials, size, d.dx)

    delta = d.delta
    regions = {name: _region_mask(name, r, x, size, delta, d.dx, ids, index, base_dir) for name, r in scene.regions.items()}

    fixmask = np.zeros(lattice.n_sites, np.int32)
    u_bc = np.zeros((lattice.n_sites, dim))
    v_bc = np.zeros((lattice.n_sites, dim))
    body = np.zeros((lattice.n_sites, dim))
    vol = site_volume(d.dx, dim, thickness)
    for q, bc in enumerate(scene.boundary):
        where = f"boundary[{q}]"
        if bc.region not in regions:
            raise InputError(f"{where}.region", f"unknown region '{bc.region}'")
        mask = regions[bc.region]
        if len(bc.value) != dim:
            raise InputError(f"{where}.value", f"needs {dim} components, got {len(bc.value)}")
        if bc.kind == "traction":
            r = scene.regions[bc.region]
            if r.face is None:
                raise InputError(f"{where}.region", "a traction needs a region defined by a face")
            axis, _ = dfx.FACES[r.face]
            others = [a for a in range(dim) if a != axis]
            cols = np.unique(np.floor(x[mask][:, others] / d.dx).astype(np.int64), axis=0).shape[0]
            area = cols * d.dx ** (dim - 1) * (thickness if dim == 2 else 1.0)
            per_site = np.array(bc.value) * area / (mask.sum() * vol)
            body[mask] += per_site
            continue
        for a, val in enumerate(bc.value):
            if val == "free":
                continue
            fixmask[mask] |= 1 << a
            if bc.kind == "displacement":
                u_bc[mask, a] = val
                v_bc[mask, a] = 0.0
            else:
                v_bc[mask, a] = val
                u_bc[mask, a] = 0.0

    eig = np.zeros(lattice.n_sites)
    for q, es in enumerate(scene.eigenstrains):
        where = f"eigenstrains[{q}]"
        if es.material is not None:
            if es.material not in index or es.material == VOID:
                raise InputError(f"{where}.material", f"unknown material '{es.material}'")
            mask = ids == index[es.material]
        else:
            if es.region not in regions:
                raise InputError(f"{where}.region", f"unknown region '{es.region}'")
            mask = regions[es.region]
        eig[mask] = es.strain

    volume = site_volume(d.dx, dim, thickness)
    try:
        table = build_bond_table(materials, interfaces, setting, stencil, d.dx, volume, thickness, gb_spec)
    except LawError as e:
        raise InputError(_law_field(scene, e), str(e)) from None
    resolved = _resolved_scene(scene, materials, thickness)
    setup = Setup(resolved, base_dir, setting, thickness, stencil, lattice, names, materials, ids, regions,
                  fixmask, u_bc, v_bc, body, eig, table, grains=grain_map, precrack_cuts=cuts)
    if scene.electrochem is not None:
        _resolve_electrochem(setup, scene, index)
    if scene.cathode is not None:
        _resolve_cathode(setup, scene, index, micro, cathode_grain, interfaces)
    return setup


def _resolve_precracks(scene: Scene, lattice: Lattice, stencil: Stencil, ids: np.ndarray,
                       size: np.ndarray) -> np.ndarray | None:
    """The bonds the scene's pre-cracks cut; each pre-crack checked for dimension, extent and shape."""
    dim, dx = lattice.dim, lattice.dx
    rows = []
    for q, pc in enumerate(scene.precracks):
        where = f"precracks[{q}]"
        if pc.type == "segment" and dim != 2:
            raise InputError(f"{where}.type", 'a segment pre-crack is 2D; in 3D give a planar polygon (type = "polygon")')
        if pc.type == "polygon" and dim != 3:
            raise InputError(f"{where}.type", 'a polygon pre-crack is 3D; in 2D give a segment (type = "segment")')
        key = "points" if pc.type == "segment" else "vertices"
        pts = np.array([_vec(v, dim, f"{where}.{key}") for v in getattr(pc, key)])
        for n, p in enumerate(pts):
            if np.any(p < -1e-9 * dx) or np.any(p > size + 1e-9 * dx):
                box = " x ".join(f"[0, {s * 1e6:.4g}]" for s in size)
                at = ", ".join(f"{c * 1e6:.4g}" for c in p)
                raise InputError(f"{where}.{key}", f"point {n} ({at}) um lies outside the domain {box} um")
        if pc.type == "segment":
            if np.linalg.norm(pts[1] - pts[0]) <= 1e-9 * dx:
                raise InputError(f"{where}.points", "the two points coincide: a pre-crack needs a length")
            crack = pcx.CrackSegment(tuple(pts[0]), tuple(pts[1]))
        else:
            _, normal, off = pcx.plane_of(pts)
            span = float(np.ptp(pts, axis=0).max())
            if not normal.any() or span == 0.0:
                raise InputError(f"{where}.vertices", "the vertices enclose no area")
            if off > 1e-6 * span:
                raise InputError(f"{where}.vertices", f"not planar: a vertex lies {off * 1e6:.4g} um off the "
                                                      "polygon's mean plane")
            crack = pcx.CrackPolygon(tuple(map(tuple, pts)))
        cut = pcx.cut_bonds(lattice, stencil, crack, ids)
        if not len(cut):
            raise InputError(where, "cuts no bond: it is shorter than the lattice resolves, or lies where there is "
                                    "no material")
        rows.append(cut)
    return np.concatenate(rows) if rows else None


def _law_field(scene: Scene, err: LawError) -> str:
    """The scene field a bond-law error belongs to (the first softening law given)."""
    for name, m in scene.materials.items():
        if m.damage is not None and m.damage.law != "brittle":
            return f"materials.{name}.damage"
    for q, itf in enumerate(scene.interfaces):
        if itf.damage is not None and itf.damage.law != "brittle":
            return f"interfaces[{q}].damage"
    return "grains"


def _resolve_grains(g, lattice: Lattice, stencil: Stencil, ids: np.ndarray, index: dict[str, int],
                    materials: list[MaterialSpec], size: np.ndarray, dx: float) -> tuple[GrainMap, GrainBoundarySpec]:
    """Voronoi grains of ``[grains].material`` and the grain-boundary constants of the pair table."""
    if g.material not in index or g.material == VOID:
        raise InputError("grains.material", f"unknown material '{g.material}'")
    a = index[g.material]
    spec = materials[a - 1]
    if spec.role == "lithium":
        raise InputError("grains.material", f"'{g.material}' is lithium, which is ductile (its bonds never break); "
                                            "grains apply to an electrolyte or an 'other' material")
    if spec.role != "electrolyte" and g.boundary_strength is not None:
        raise InputError("grains.boundary_strength", f"'{g.material}' bonds never break (role {spec.role}), so a factor "
                                                     "on their critical stretch does nothing; give boundary_fracture_energy")
    box = float(np.prod(size))
    if g.mean_size > float(size.max()) or grain_volume(g.mean_size, len(size)) > box:
        what = "area" if len(size) == 2 else "volume"
        raise InputError("grains.mean_size", f"a grain of {g.mean_size * 1e6:.4g} um is larger than the domain "
                                             f"(its {what} exceeds the domain's): the body would be one crystal")
    if g.mean_size < 2.0 * dx:
        raise InputError("grains.mean_size", f"{g.mean_size * 1e6:.4g} um is under 2 lattice spacings "
                                             f"(dx = {dx * 1e6:.4g} um): refine dx to resolve the grains")
    if not (ids == a).any():
        raise InputError("grains.material", f"no lattice site holds '{g.material}'")
    try:
        gm = build_grains(lattice, stencil, ids, a, len(materials) + 1, size, g.mean_size, g.seed)
    except ValueError as e:
        raise InputError("grains.mean_size", str(e)) from None
    return gm, GrainBoundarySpec(a, tuple(gm.pseudo_ids), g.boundary_stiffness, g.boundary_strength,
                                 g.boundary_fracture_energy)


def _resolve_electrochem(setup: Setup, scene: Scene, index: dict[str, int]) -> None:
    """Conductivities, counter electrode, and the checks a coupled scene needs."""
    ec = scene.electrochem
    if ec.failure.length is not None and ec.failure.length < setup.lattice.dx * (1 - 1e-9):
        raise InputError("electrochem.failure.length", f"{ec.failure.length * 1e6:.4g} um is shorter than the lattice "
                                                       f"spacing ({setup.lattice.dx * 1e6:.4g} um): the mean would "
                                                       f"be one site's damage")
    ids = setup.material_ids
    roles = np.array(["void"] + [m.role for m in setup.materials])
    site_role = roles[ids]
    kappa_of = np.zeros(len(setup.materials) + 1)
    for a, name in enumerate(setup.names, start=1):
        if setup.materials[a - 1].role != "electrolyte":
            continue
        info = conductivity_at(name, scene.materials[name], ec.temperature)
        setup.conductivity[name] = info
        kappa_of[a] = info["kappa"]
    # the saved scene states κ_ref, T_ref and E_a, so that it reproduces κ(T) without the library
    mats = dict(setup.scene.materials)
    for name, info in setup.conductivity.items():
        mats[name] = mats[name].model_copy(update=dict(
            ionic_conductivity=info["kappa_ref"], reference_temperature=info["reference_temperature"],
            conductivity_activation_energy=info["activation_energy_eV"]))
    setup.scene = setup.scene.model_copy(update=dict(materials=mats))
    if ec.counter_electrode not in setup.regions:
        raise InputError("electrochem.counter_electrode", f"unknown region '{ec.counter_electrode}'")
    ce = setup.regions[ec.counter_electrode] & (site_role == "electrolyte")
    if not ce.any():
        raise InputError("electrochem.counter_electrode", "the counter electrode does not touch the electrolyte")
    li = site_role == "lithium"
    se = site_role == "electrolyte"
    lin = setup.lattice.linear_offsets(setup.stencil)
    li_p = setup.lattice.scatter(li.astype(np.int8))
    idx = setup.lattice.interior_index()
    touches = np.zeros(len(ids), bool)
    for k in range(setup.stencil.size):
        touches |= se & (li_p[idx + lin[k]] == 1)
    if not touches.any():
        raise InputError("electrochem", "the scene has no Li|electrolyte interface (no lithium site borders the electrolyte)")
    setup.kappa = kappa_of[ids]
    setup.counter_electrode = ce
    if ec.li_mechanics == "fluid":
        _resolve_fluid_li(setup, li)


def _resolve_fluid_li(setup: Setup, li: np.ndarray) -> None:
    """Li outside the prescribed-displacement regions becomes fluid (mechanics/fluid.py): its sites get the
    fluid pseudo id of the pair table, with the bulk modulus the bonds would give that Li."""
    fluid = li & (setup.fixmask == 0)
    if not fluid.any():
        return
    li_ids = np.unique(setup.material_ids[fluid])
    if len(li_ids) > 1:
        names = ", ".join(setup.names[i - 1] for i in li_ids)
        raise InputError("electrochem.li_mechanics", f"fluid Li is one material with one bulk modulus; the free Li "
                                                     f"here is {names}: give one lithium material, or 'elastic'")
    a = int(li_ids[0])
    setup.table = with_fluid_li(setup.table, a, kappa_for(setup.materials[a - 1], setup.setting))
    setup.fluid = fluid


def conductivity_at(name: str, m, temperature: float) -> dict:
    """κ(T) of electrolyte ``name`` (scene entry ``m``), Arrhenius from its reference temperature.

    κ_ref: the scene's ionic_conductivity, else the library's. T_ref: the scene's reference_temperature,
    else the library's sourced one (LAGP: 300 K, seed 000 Table 1), else 298.15 K. E_a: the scene's
    conductivity_activation_energy, else the library's (Li6PS5Cl: 0.40 eV, seed 001). A run more than
    TEMPERATURE_TOLERANCE_K away from T_ref with no E_a is refused (κ is not known there).
    """
    where = f"materials.{name}"
    lib = get_material(m.base) if m.base is not None else None
    kappa = m.ionic_conductivity
    if kappa is None and lib is not None and lib.ionic_conductivity is not None:
        kappa = lib.ionic_conductivity.value
    if kappa is None or not kappa > 0:
        raise InputError(f"{where}.ionic_conductivity", "an electrolyte needs a positive ionic conductivity")
    t_ref = m.reference_temperature
    if t_ref is None:
        t_ref = lib.reference_temperature() if lib is not None else DEFAULT_REFERENCE_TEMPERATURE_K
    ea = m.conductivity_activation_energy
    if ea is None and lib is not None and lib.conductivity_activation_energy is not None:
        ea = lib.conductivity_activation_energy.value
    if ea is None:
        if abs(temperature - t_ref) > TEMPERATURE_TOLERANCE_K:
            raise InputError(
                f"{where}.conductivity_activation_energy",
                f"electrochem.temperature {temperature:.6g} K differs from the {t_ref:.6g} K at which the ionic "
                f"conductivity holds, and {name} has no activation energy: give conductivity_activation_energy "
                f"(from a source) or the conductivity at this temperature with reference_temperature",
            )
        factor = 1.0
    else:
        factor = arrhenius_factor(ea, temperature, t_ref)
    return dict(kappa=kappa * factor, kappa_ref=kappa, reference_temperature=t_ref, activation_energy_eV=ea,
                temperature=temperature, arrhenius_factor=factor)


def _resolved_scene(scene: Scene, materials: list[MaterialSpec], thickness: float | None) -> Scene:
    """The scene with library values written out, so the saved copy reproduces the run alone."""
    mats = {}
    for m in materials:
        mats[m.name] = scene.materials[m.name].model_copy(update=dict(
            role=m.role, youngs_modulus=m.youngs_modulus, poisson_ratio=m.poisson_ratio, density=m.density,
            fracture_toughness=None, fracture_energy=m.fracture_energy, poisson_mismatch=m.poisson_mismatch,
            damage=None if m.law == "brittle" and scene.materials[m.name].damage is None else
            Damage.model_construct(law=m.law, strength=m.strength, fracture_energy=None)))
    domain = scene.domain
    if thickness is not None:
        domain = domain.model_copy(update=dict(thickness=thickness))
    if domain.horizon is None:
        domain = domain.model_copy(update=dict(horizon_factor=domain.m))
    return scene.model_copy(update=dict(materials=mats, domain=domain))


def material_sources(names: list[str], scene: Scene) -> dict:
    """For the manifest: where every library value a scene used comes from."""
    out = {}
    for name in names:
        base = scene.materials[name].base
        if base:
            lib = get_material(base)
            out[name] = {k: {"value": v.value, "unit": v.unit, "source": v.source} for k, v in lib.sourced_items().items()}
    return out




_CATHODE_PHASES = ("particle", "matrix", "separator", "anode")


def _paint_cathode(scene: Scene, lattice: Lattice, ids: np.ndarray, index: dict[str, int]):
    """Paint the particle of [cathode] over the bodies; returns (grain per site, the microstructure)."""
    from ..lattice.particle import draw_microstructure

    c = scene.cathode
    dim = lattice.dim
    names = [getattr(c, ph) for ph in _CATHODE_PHASES]
    for ph, name in zip(_CATHODE_PHASES, names):
        if name not in index or name == VOID:
            raise InputError(f"cathode.{ph}", f"unknown material '{name}'")
    if len(set(names)) != 4:
        raise InputError("cathode", "particle, matrix, separator and anode must be four different materials")
    centre = _vec(c.center, dim, "cathode.center")
    size = np.array(scene.domain.size)
    if np.any(centre - c.radius < -1e-9 * lattice.dx) or np.any(centre + c.radius > size + 1e-9 * lattice.dx):
        raise InputError("cathode.radius", f"the particle of radius {c.radius * 1e6:.4g} um about "
                                           f"({', '.join(f'{v * 1e6:.4g}' for v in centre)}) um leaves the domain")
    if c.radius < 4.0 * lattice.dx:
        raise InputError("cathode.radius", f"{c.radius * 1e6:.4g} um is under 4 lattice spacings "
                                           f"(dx = {lattice.dx * 1e6:.4g} um): refine dx to resolve the particle")
    centre3 = np.concatenate([centre, np.zeros(3 - dim)])  # 2D: the section through the centre
    micro = draw_microstructure(centre3, c.radius, c.grains, c.seed)
    x = lattice.positions()
    x3 = np.column_stack([x, np.zeros((len(x), 3 - dim))])
    inside = micro.inside(x3)
    ids[inside] = index[c.particle]
    grain = np.full(lattice.n_sites, -1, dtype=np.int64)
    grain[inside] = micro.grain_of(x3[inside])
    return grain, micro


def _touches(setup: Setup, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The sites of mask ``a`` with a stencil neighbour in mask ``b``."""
    lat = setup.lattice
    lin = lat.linear_offsets(setup.stencil)
    bp = lat.scatter(b.astype(np.int8))
    idx = lat.interior_index()
    out = np.zeros(lat.n_sites, bool)
    for k in range(setup.stencil.size):
        out |= a & (bp[idx + lin[k]] == 1)
    return out


def _resolve_cathode(setup: Setup, scene: Scene, index: dict[str, int], micro, grain: np.ndarray,
                     interfaces: dict) -> None:
    """The checks a cathode cell needs, its conductivities and its particle's constants."""
    import dataclasses

    from ..electrochem import ocv
    from ..materials import Sourced

    c = scene.cathode
    ids = setup.material_ids
    pid, mid, sid, aid = (index[getattr(c, ph)] for ph in _CATHODE_PHASES)
    particle, matrix, separator, anode = (ids == v for v in (pid, mid, sid, aid))
    if scene.solver.kind != "quasi_static":
        raise InputError("solver.kind", "a cathode cell is quasi-static (its mechanics follows the Li at each step)")
    if scene.eigenstrains:
        raise InputError("eigenstrains", "a cathode cell sets the particle's eigenstrain from its Li; give no "
                                         "[[eigenstrains]]")
    if scene.grains is not None:
        raise InputError("grains", "a cathode cell's particle has its own grains ([cathode].grains)")
    outside = _touches(setup, (ids != 0) & ~particle, particle)
    if (outside & ~matrix).any():
        raise InputError("cathode.center", f"the particle must lie inside the matrix '{c.matrix}': within a horizon "
                                           "of it there are sites of another material")
    if not separator.any() or not anode.any():
        raise InputError("cathode.separator", "the scene holds no separator or no anode site")
    if not _touches(setup, matrix, separator).any():
        raise InputError("cathode.separator", f"the separator '{c.separator}' does not touch the matrix")
    if not _touches(setup, separator, anode).any():
        raise InputError("cathode.anode", f"the anode '{c.anode}' does not touch the separator")
    if _touches(setup, matrix, anode).any():
        raise InputError("cathode.anode", "the anode touches the matrix: the separator must lie between them")
    key = (min(pid, mid), max(pid, mid))
    if key not in interfaces:
        raise InputError("interfaces", f"declare the particle-matrix interface ['{c.particle}', '{c.matrix}'] with "
                                       "its bond law, e.g. damage = {law = \"bilinear\", strength = \"100 MPa\", "
                                       "fracture_energy = \"1 J m^-2\"}")
    law = interfaces[key]
    gap = c.gap_length
    if gap is None:
        if not isinstance(law, PairLaw) or law.strength is None:
            raise InputError("cathode.gap_length", "needs a value: it defaults to G_c/σ_c of the particle-matrix "
                                                   "interface, which has no strength")
        gap = law.fracture_energy / law.strength
    kappa = np.zeros(len(ids))
    info = {}
    for name, mask in ((c.matrix, matrix), (c.separator, separator)):
        info[name] = conductivity_at(name, scene.materials[name], c.temperature)
        kappa[mask] = info[name]["kappa"]
    base = ocv.NCM111

    def pick(field, value, unit):
        return getattr(base, field) if value is None else Sourced(value, unit, f"scene: cathode.{field}")

    diff = c.diffusivity
    if diff is not None and diff[0] != diff[1]:
        raise InputError("cathode.diffusivity", "D11 and D22 (in the layers, [100] and [010]) must be equal")
    mat = dataclasses.replace(
        base,
        max_concentration=pick("max_concentration", c.max_concentration, "mol m^-3"),
        initial_concentration=pick("initial_concentration", c.initial_concentration, "mol m^-3"),
        diffusivity_ab=base.diffusivity_ab if diff is None else Sourced(diff[0], "m^2 s^-1", "scene: cathode.diffusivity"),
        diffusivity_c=base.diffusivity_c if diff is None else Sourced(diff[2], "m^2 s^-1", "scene: cathode.diffusivity"),
        expansion_ratios=base.expansion_ratios if c.expansion_ratios is None else tuple(c.expansion_ratios),
        expansion_ratio_source=(base.expansion_ratio_source if c.expansion_ratios is None
                                else "scene: cathode.expansion_ratios"),
        expansion_coefficient=pick("expansion_coefficient", c.expansion_coefficient, "m^3 mol^-1"),
        exchange_current_density=pick("exchange_current_density", c.exchange_current_density, "A m^-2"),
        transfer_coefficient=pick("transfer_coefficient", c.transfer_coefficient, "-"),
    )
    if not mat.initial_concentration.value < mat.max_concentration.value:
        raise InputError("cathode.initial_concentration", "must lie below max_concentration")
    y0 = mat.initial_concentration.value / mat.max_concentration.value
    for name in ("voltage_max", "voltage_min"):
        try:
            ocv.ncm111_stoichiometry(getattr(c, name))
        except ValueError as e:
            raise InputError(f"cathode.{name}", str(e)) from None
    if not (ocv.Y_MIN <= y0 <= ocv.Y_MAX):
        raise InputError("cathode.initial_concentration", f"Li fraction {y0:.4g} lies outside the open-circuit "
                                                          f"potential's range [{ocv.Y_MIN}, {ocv.Y_MAX}]")
    if c.li_window == "paper" and not ocv.ncm111_stoichiometry(c.voltage_max) < y0:
        raise InputError("cathode.li_window", "the initial state lies above voltage_max")
    m = c.diffusion_horizon if c.diffusion_horizon is not None else (3.0 if setup.lattice.dim == 2 else 4.0)
    setup.cathode = CathodeSetup(pid, mid, sid, aid, micro, grain, mat, kappa, info, float(gap), float(m))
