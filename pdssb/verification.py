"""Verification problems with closed-form answers, defined once and used by tests and docs.

Each function builds a small body directly on :class:`MechanicsModel`, runs it, and returns the
measured quantity next to the closed form it should reproduce (MODEL.md §7).
"""

from __future__ import annotations

import numpy as np
import taichi as ti

from .lattice.grid import Lattice
from .lattice.stencil import Stencil
from .mechanics.bond_table import MaterialSpec, PairLaw, build_bond_table
from .mechanics.cascade import advance, cascade
from .mechanics.bonds import bond_bit
from .mechanics.model import MechanicsModel
from .mechanics.pmb import PD_POISSON, site_volume

E_REF = 100e9  # Pa
RHO_REF = 2000.0  # kg m^-3


def _model(setting: str, shape: tuple[int, ...], dx: float, gc: float | None = 1.0, m: float = 3.0,
           ids: np.ndarray | None = None, thickness: float | None = None, cuts: np.ndarray | None = None,
           law: str = "brittle", strength: float | None = None, interface: bool = False):
    """``interface``: two materials of the same elasticity, ids 1 and 2, each unbreakable in itself, whose
    bonds between them carry the law (``gc``, ``strength``): a cohesive interface."""
    dim = 3 if setting == "3d" else 2
    h = (thickness or dx) if dim == 2 else None
    stencil = Stencil(dim, m)
    lattice = Lattice(shape, dx, halo=stencil.reach)
    vol = site_volume(dx, dim, h)
    if interface:
        specs = [MaterialSpec(name, "other", E_REF, PD_POISSON[setting], RHO_REF, None, "error") for name in "ab"]
        pairs = {(1, 1): None, (2, 2): None, (1, 2): PairLaw(law, gc, strength)}
        table = build_bond_table(specs, pairs, setting, stencil, dx, vol, h)
    else:
        spec = MaterialSpec("solid", "electrolyte" if gc else "other", E_REF, PD_POISSON[setting], RHO_REF, gc,
                            "error", law, strength)
        table = build_bond_table([spec], {}, setting, stencil, dx, vol, h)
    mat = np.ones(lattice.n_sites, np.int32) if ids is None else ids
    return MechanicsModel(lattice, stencil, mat, table, setting, h, "f64", cuts=cuts), lattice, vol, h


def uniaxial_tension(setting: str, width: int, length: int | None = None, strain: float = 1e-4,
                     clamp_layers: int = 3, method: str = "adr", preconditioner: str = "auto") -> dict:
    """Bar pulled along x by prescribed end displacements, lateral faces free.

    Stress = reaction force on one clamp / cross-section; strain = slope of u_x(x) in the middle
    third (away from the clamps). Closed form: σ/ε = E (3D, plane stress) and E/(1−ν²) (plane
    strain, where σ_zz = ν σ_xx keeps ε_zz = 0).
    """
    dim = 3 if setting == "3d" else 2
    length = length or 2 * width
    shape = (length, width) if dim == 2 else (length, width, width)
    dx = 1e-6
    model, lattice, vol, h = _model(setting, shape, dx, gc=None)
    x = lattice.positions()
    lx = length * dx
    left = x[:, 0] < clamp_layers * dx
    right = x[:, 0] > lx - clamp_layers * dx
    fix = np.zeros(lattice.n_sites, np.int32)
    fix[left | right] = 1
    u_bc = np.zeros((lattice.n_sites, dim))
    u_bc[right, 0] = 0.5 * strain * lx
    u_bc[left, 0] = -0.5 * strain * lx
    for a in range(1, dim):  # remove rigid motion: pin the mid line of the left clamp laterally
        mid = left & (np.abs(x[:, a] - x[:, a].mean()) < 0.6 * dx)
        fix[mid] |= 1 << a
    model.set_boundary(fix, u_bc, np.zeros_like(u_bc), np.zeros_like(u_bc))
    model.use_solver(method, preconditioner)
    res = model.relax(1e-9, 200_000)
    u = model.field("u")
    mid = (x[:, 0] > lx / 3) & (x[:, 0] < 2 * lx / 3)
    eps = np.polyfit(x[mid, 0], u[mid, 0], 1)[0]
    model.fixmask.fill(0)  # internal force on the clamp sites = minus the reaction
    model.compute_forces()
    reaction = -model.field("force")[right, 0].sum() * vol
    area = width * dx * (h if dim == 2 else width * dx)
    nu = PD_POISSON[setting]
    expected = E_REF / (1 - nu**2) if setting == "strain" else E_REF
    return dict(modulus=reaction / area / eps, expected=expected, converged=res.converged, iterations=res.iterations,
                solver_stats=dict(model.solver.stats))


def bimaterial_bar(stiffness_ratio: float, width: int = 30, length: int = 80, strain: float = 1e-4) -> dict:
    """A plane-stress bar whose halves (along x) have moduli E and ratio·E, pulled by its ends.

    Closed form (springs in series, Reuss): the end-to-end modulus is 2/(1/E_a + 1/E_b) times the
    surface-free value; measured from the clamp reaction and the displacement jump between two
    stations, each a quarter of the length from its clamp, so clamp effects cancel.
    """
    setting, dx, h = "stress", 1e-6, 1e-6
    shape = (length, width)
    stencil = Stencil(2, 3.0)
    lattice = Lattice(shape, dx, halo=stencil.reach)
    vol = site_volume(dx, 2, h)
    ea, eb = E_REF, stiffness_ratio * E_REF
    specs = [MaterialSpec(n, "other", e, 1.0 / 3.0, RHO_REF, None, "error") for n, e in (("a", ea), ("b", eb))]
    table = build_bond_table(specs, {}, setting, stencil, dx, vol, h)
    x = lattice.positions()
    lx = length * dx
    ids = np.where(x[:, 0] < lx / 2, 1, 2).astype(np.int32)
    model = MechanicsModel(lattice, stencil, ids, table, setting, h, "f64")
    left, right = x[:, 0] < 3 * dx, x[:, 0] > lx - 3 * dx
    fix = np.zeros(lattice.n_sites, np.int32)
    fix[left | right] = 1
    fix[left & (np.abs(x[:, 1] - x[:, 1].mean()) < 0.6 * dx)] |= 2
    u_bc = np.zeros((lattice.n_sites, 2))
    u_bc[right, 0] = strain * lx
    model.set_boundary(fix, u_bc, np.zeros_like(u_bc), np.zeros_like(u_bc))
    model.relax(1e-10, 200_000)
    u = model.field("u")
    xa, xb = lx / 4, 3 * lx / 4
    col = lambda xc: np.abs(x[:, 0] - xc) < 0.6 * dx  # noqa: E731
    du = u[col(xb), 0].mean() - u[col(xa), 0].mean()
    model.fixmask.fill(0)
    model.compute_forces()
    sigma = -model.field("force")[right, 0].sum() * vol / (width * dx * h)
    modulus = sigma * (xb - xa) / du
    return dict(modulus=modulus, expected=2.0 / (1.0 / ea + 1.0 / eb))


def fracture_energy(setting: str, width: int = 40, height: int = 16, steps: int = 2000) -> dict:
    """Energy per unit area to break every bond across a plane, by opening the body rigidly.

    The upper half is displaced normal to the plane y = H/2 in small increments; each
    increment breaks the bonds past s0 and books each bond's energy at breaking. Only sites more
    than a horizon from the lateral faces are counted, so the result is per unit area of an
    infinite plane. Closed form: G_c (the value the critical stretch was derived from).
    """
    dim = 3 if setting == "3d" else 2
    shape = (width, height) if dim == 2 else (width, height, width)
    dx = 1e-6
    gc = 10.0
    model, lattice, vol, h = _model(setting, shape, dx, gc=gc)
    x = lattice.positions()
    upper = x[:, 1] > 0.5 * height * dx
    s0 = model.table.s0[1, 1]
    # a crossing bond (o_x, o_y) reaches s0 at an opening of about |ξ|² s0 / (o_y Δx): the flattest
    # bond of the stencil needs (m + ½)² s0 Δx; open to twice that so every crossing bond breaks
    dmax = 2.0 * (model.stencil.horizon_factor + 0.5) ** 2 * s0 * dx
    u = np.zeros((lattice.n_sites, dim))
    for k in range(1, steps + 1):
        u[upper, 1] = dmax * k / steps
        model.set_field("u", u)
        model.break_bonds(1.0)
    delta = model.stencil.horizon_factor * dx
    lateral = [a for a in range(dim) if a != 1]
    inner = np.all([(x[:, a] > delta + dx) & (x[:, a] < shape[a] * dx - delta - dx) for a in lateral], axis=0)
    energy = model.field("dissipated")[inner].sum() * vol
    inner_cols = np.prod([np.ptp(np.floor(x[inner][:, a] / dx)) + 1 for a in lateral])
    area = inner_cols * dx ** (dim - 1) * (h if dim == 2 else 1.0)
    return dict(energy_per_area=energy / area, expected=gc, increments=steps,
                intact_crossing=_intact_crossing(model, x, upper))


def softening_separation(setting: str, law: str, strength: float, gc: float = 10.0, width: int = 30,
                         height: int = 12, steps: int = 1500, interface: bool = False) -> dict:
    """Energy per unit area to separate a body along a plane through softening bonds (MODEL.md §7.3).

    The upper half is moved rigidly normal to the plane y = H/2 in small increments, to beyond the
    breaking stretch of the flattest crossing bond; after each increment the bonds' damage is
    committed (mechanics/fracture.commit_damage). Two measures, per unit area of the inner columns
    (more than a horizon from the lateral faces): the energy booked as dissipated, and the work done
    by the opening, ∫ F dδ (trapezoid rule on the net force of the bonds on the upper half). Closed
    form: both equal G_c, the energy the tail was calibrated to. ``interface``: the halves are two
    materials, each unbreakable, and the plane is their cohesive interface (the law on the pair).
    """
    dim = 3 if setting == "3d" else 2
    shape = (width, height) if dim == 2 else (width, height, width)
    dx = 1e-6
    x = Lattice(shape, dx, halo=0).positions()
    upper = x[:, 1] > 0.5 * height * dx
    ids = np.where(upper, 2, 1).astype(np.int32) if interface else None
    model, lattice, vol, h = _model(setting, shape, dx, gc=gc, law=law, strength=strength, ids=ids,
                                    interface=interface)
    m_ = model.stencil.horizon_factor
    delta = m_ * dx
    lateral = [a for a in range(dim) if a != 1]
    inner = np.all([(x[:, a] > delta + dx) & (x[:, a] < shape[a] * dx - delta - dx) for a in lateral], axis=0)
    law_ = model.table.pair_law(1, 2 if interface else 1)
    dmax = 1.05 * (m_ + 0.5) ** 2 * law_.s_b * dx  # the flattest crossing bond past its breaking stretch
    u = np.zeros((lattice.n_sites, dim))
    work, f_prev, d_prev = 0.0, 0.0, 0.0
    for k in range(1, steps + 1):
        d_now = dmax * k / steps
        u[upper, 1] = d_now
        model.set_field("u", u)
        model.compute_forces(with_abs=False)
        f_now = model.field("force")[upper & inner, 1].sum() * vol  # the bonds' pull on the upper half
        work += -0.5 * (f_now + f_prev) * (d_now - d_prev)
        f_prev, d_prev = f_now, d_now
        model.commit_damage()
    energy = model.field("dissipated")[inner].sum() * vol
    inner_cols = np.prod([np.ptp(np.floor(x[inner][:, a] / dx)) + 1 for a in lateral])
    area = inner_cols * dx ** (dim - 1) * (h if dim == 2 else 1.0)
    return dict(dissipated_per_area=energy / area, work_per_area=work / area, expected=gc,
                intact_crossing=_intact_crossing(model, x, upper))


def softening_bar(setting: str, law: str, strength: float, gc: float, width: int = 12, length: int = 30,
                  m: float = 3.0, dx: float = 1e-6, strains: np.ndarray | None = None,
                  unload_to: float | None = None) -> dict:
    """A bar under uniaxial stress (grips of one horizon at both ends held at the affine field u_x = ε x,
    free laterally; one site pinned laterally), loaded through ``strains`` with the direct solver, the
    fixed-load cascade (mechanics/cascade.py: brittle bonds broken, softening damage committed) after
    every load. Returns the strains and the mean
    axial stress (the grip's reaction over the section). The bar stays homogeneous up to its peak, so
    the peak is the lattice's uniaxial strength (bond_laws.uniaxial_peak): closed form σ_peak = σ0.
    ``unload_to``: after the last strain, unload to this strain and report the stress there too.
    """
    dim = 3 if setting == "3d" else 2
    shape = (length, width) if dim == 2 else (length, width, width)
    model, lattice, vol, h = _model(setting, shape, dx, gc=gc, m=m, law=law, strength=strength)
    x = lattice.positions()
    lx = length * dx
    grip = m * dx
    left, right = x[:, 0] < grip, x[:, 0] > lx - grip
    fix = np.zeros(lattice.n_sites, np.int32)
    fix[left | right] = 1
    mid = left & (np.abs(x[:, 1] - x[:, 1].mean()) < 0.6 * dx)
    if dim == 3:
        mid &= np.abs(x[:, 2] - x[:, 2].mean()) < 0.6 * dx
    for a in range(1, dim):
        fix[mid] |= 1 << a
    area = width * dx * (h if dim == 2 else width * dx)
    model.use_solver("direct", "lu")
    path = list(strains) + ([unload_to] if unload_to is not None else [])
    stress = []
    for eps in path:
        u_bc = np.zeros((lattice.n_sites, dim))
        u_bc[:, 0] = eps * (x[:, 0] - 0.5 * lx)
        model.set_boundary(fix, u_bc, np.zeros_like(u_bc), np.zeros_like(u_bc))
        res = cascade(model, 1e-9, 200_000)
        if not model.relax(1e-9, 200_000).converged:
            raise RuntimeError(f"softening bar: no equilibrium at strain {eps:.4g} (residual {res.residual:.3g})")
        model.fixmask.fill(0)  # the internal force on the grip sites = minus the reaction
        model.compute_forces()
        stress.append(-model.field("force")[right, 0].sum() * vol / area)
        model.set_boundary(fix, u_bc, np.zeros_like(u_bc), np.zeros_like(u_bc))
    law_ = model.table.pair_law(1, 1)
    return dict(strains=np.array(path), stress=np.array(stress), law=law_, model=model)


def notch_crack_path(load_steps: int, shape: tuple[int, int] = (40, 40), break_mode: str = "all",
                     tolerance: float = 1e-4, method: str = "adr", preconditioner: str = "auto",
                     law: str = "brittle", strength: float | None = None, opening_factor: float = 3.0,
                     max_damage_increment: float = 0.1, gc: float = 1.0, band: float = 0.02) -> dict:
    """A 2D plate with an edge notch and a hole above the notch line, pulled apart in y.

    The crack starts at the notch tip and is drawn off the notch line towards the hole, so its
    path is curved. Returns the damaged sites and the path (row of the most damaged site in each
    column). Quasi-static growth must not depend on how finely the same final displacement is
    reached (MODEL.md §7.9): after each load step the cascade breaks and relaxes at fixed load
    until no bond is past its critical stretch.
    """
    nx, ny = shape
    dx = 1e-6
    x = Lattice(shape, dx, halo=0).positions()
    notch = (x[:, 0] < 0.3 * nx * dx) & (np.abs(x[:, 1] - 0.5 * ny * dx) < 0.6 * dx)
    hole = np.hypot(x[:, 0] - 0.7 * nx * dx, x[:, 1] - 0.68 * ny * dx) < 0.1 * nx * dx
    ids = np.where(notch | hole, 0, 1).astype(np.int32)
    model, lattice, vol, h = _model("strain", shape, dx, gc=gc, ids=ids, law=law, strength=strength)
    top = x[:, 1] > (ny - 3) * dx
    bottom = x[:, 1] < 3 * dx
    fix = np.zeros(lattice.n_sites, np.int32)
    fix[(top | bottom) & (ids != 0)] = 3
    s0 = model.table.pair_law(1, 1).s0
    opening = opening_factor * s0 * ny * dx
    u_bc = np.zeros((lattice.n_sites, 2))
    u_bc[top, 1] = 0.5 * opening
    u_bc[bottom, 1] = -0.5 * opening
    model.set_boundary(fix, u_bc, np.zeros_like(u_bc), np.zeros_like(u_bc))
    model.use_solver(method, preconditioner)
    total_iters = 0

    def apply(lam):
        model.load = lam

    for k in range(1, load_steps + 1):
        total_iters += advance(model, apply, (k - 1) / load_steps, k / load_steps, tolerance, 200_000,
                               max_damage_increment,
                               break_mode="all" if break_mode == "all" else "most_stretched", band=band).iterations
    model.compute_damage()
    dmg = model.field("dmg")
    grid = dmg.reshape(shape)
    path = np.where(grid.max(axis=1) > 0.3, grid.argmax(axis=1), -1)
    return dict(damaged=dmg > 0.3, path=path, broken=model.broken_bond_count(), iterations=total_iters,
                max_stretch_ratio=model.max_stretch_ratio(),
                damage_field=dmg, bits=model.lattice.gather(model.bits.to_numpy()), solver_stats=dict(model.solver.stats))


def _intact_crossing(model: MechanicsModel, x: np.ndarray, upper: np.ndarray) -> int:
    """Bonds that still join the two halves (must be 0 once the body is fully opened)."""
    bits = model.lattice.gather(model.bits.to_numpy())
    up_padded = model.lattice.scatter(upper.astype(np.int8))
    idx = model.lattice.interior_index()
    lin = model.lattice.linear_offsets(model.stencil)
    count = 0
    for k in range(model.stencil.size):
        on = bond_bit(bits, slice(None), k)
        crosses = (~upper) & (up_padded[idx + lin[k]] == 1)
        count += int((on & crosses).sum())
    return count


def li_slit_onset(half_length: int, eigenstrain: float = 1e-3, width_factor: float = 6.0, thickness: int = 2) -> dict:
    """A centre slit (2 sites thick, half-length a) in LAGP, filled with Li that swells by ε*.

    Until the first bond breaks the problem is linear, so the onset load is the trial load divided
    by the largest stretch ratio s/s0 over electrolyte bonds (interface bonds are made unbreakable
    here so the onset is the electrolyte's). The Li pressure on the faces at onset is the mean
    −σ_yy of the Li in the middle half of the slit, scaled the same way. Closed form (Griffith, pressurised centre crack, Y = 1 with the
    finite-width factor √(sec(πa/W))): p_c = K_IC / (Y √(πa)).
    """
    dx, h = 0.05e-6, 1e-6
    n = int(round(width_factor * 2 * half_length))
    shape = (n, n)
    stencil = Stencil(2, 3.0)
    lattice = Lattice(shape, dx, halo=stencil.reach)
    vol = site_volume(dx, 2, h)
    from .materials import get_material

    lagp, li = get_material("LAGP"), get_material("Li")
    gc = lagp.fracture_energy("strain")
    specs = [MaterialSpec("LAGP", "electrolyte", lagp.E, lagp.nu, lagp.rho, gc, "error"),
             MaterialSpec("Li", "lithium", li.E, li.nu, li.rho, None, "match_bulk")]
    table = build_bond_table(specs, {(1, 2): None}, "strain", stencil, dx, vol, h)
    x = lattice.positions()
    c = 0.5 * n * dx
    slit = (np.abs(x[:, 0] - c) < half_length * dx) & (np.abs(x[:, 1] - c) < 0.5 * thickness * dx)
    ids = np.where(slit, 2, 1).astype(np.int32)
    model = MechanicsModel(lattice, stencil, ids, table, "strain", h, "f64")
    model.set_field("eps", np.where(slit, eigenstrain, 0.0))
    model.relax(1e-8, 500_000)
    ratio = model.max_stretch_ratio()
    model.compute_stress()
    core = slit & (np.abs(x[:, 0] - c) < 0.5 * half_length * dx)
    p = -model.field("sigma")[core, 1].mean()  # normal stress on the slit faces, mid-slit
    a = half_length * dx
    W = n * dx
    y = np.sqrt(1.0 / np.cos(np.pi * a / W))
    kic = lagp.fracture_toughness.value
    return dict(onset_pressure=p / ratio, griffith=kic / (y * np.sqrt(np.pi * a)), half_length=a,
                onset_eigenstrain=eigenstrain / ratio)


#: Tada's crack-mouth opening of an edge crack in a half-plane under uniform crack-face pressure p
#: (equal, by superposition, to remote tension p): CMOD = 4·1.454·p·a/E″ (Tada, Paris & Irwin, The
#: Stress Analysis of Cracks Handbook, edge crack in a semi-infinite plate, δ = 4σa/E′·V(0), V(0) = 1.454;
#: a finite-element check, tools/edge_crack_fe.py, gives 5.83)
TADA_EDGE_CMOD = 4.0 * 1.454


def tada_edge_crack_cmod(a_over_b: float) -> float:
    """CMOD·E″/(p·a) of an edge crack in a strip of width b: 4·V1(a/b), Tada's single-edge-notch form
    V1 = [1.46 + 3.42 (1 − cos(πs/2))] / cos²(πs/2), s = a/b (1.46 against 1.454 as s → 0)."""
    c = np.cos(0.5 * np.pi * a_over_b)
    return 4.0 * (1.46 + 3.42 * (1.0 - c)) / (c * c)


def edge_crack_opening(kind: str, crack_sites: int, width_ratio: float = 5.0, height_ratio: float = 2.0,
                       faces: str = "geometry", m: float = 3.0) -> dict:
    """An edge crack of depth a under a uniform pressure p on its faces, plane strain; returns its CMOD.

    ``kind``: "precrack" (a declared segment that cuts bonds, lattice/precrack.py), "slit1" or
    "slit2" (void sites one or two rows thick, which line of sight keeps from being bridged). The
    plate is b = ``width_ratio``·a wide (crack direction) and ``height_ratio``·b high, free on every
    side (three pinned components remove the rigid-body modes, no reaction: the load is balanced).

    Pressure on peridynamic crack faces: the crack face is the boundary of the cells of the row of
    sites next to the crack. A traction p on it is a force p·A per site (A = Δx·h in 2D: the face
    area of one cell), i.e. a body force density b = p·A/V = p/Δx on each face site, normal to the
    crack and pushing the faces apart. The resultant per unit crack length is exactly p.

    CMOD: the opening u_y(upper face) − u_y(lower face) of the first two columns (at x = Δx/2, 3Δx/2),
    extrapolated linearly to the mouth x = 0. Closed form: CMOD = 4·V1(a/b)·p·a/E″, E″ = E/(1−ν²)
    (:func:`tada_edge_crack_cmod`). Also returned: the crack opening area per unit thickness
    A = Σ_columns δ Δx, whose half-plane closed form is π·1.1215²·p a²/E″ (energy: A = 2∫K²/(E″p) da).

    ``faces`` (surface correction): "geometry" as the engine has it (from the bonds the geometry
    allows: slit faces are free surfaces, pre-crack faces are not), "cut" (pre-crack cuts also count
    as missing bonds) or "sites" (every non-void neighbour counts: the cross-slit bonds are not missed).
    """
    dx, p = 1e-6, 1e6
    w = {"precrack": 0, "slit1": 1, "slit2": 2}[kind]
    a = crack_sites
    nx = int(round(width_ratio * a))
    nh = int(round(0.5 * height_ratio * nx))
    shape = (nx, 2 * nh + w)
    lattice = Lattice(shape, dx, halo=Stencil(2, m).reach)
    ix = np.arange(shape[0]).repeat(shape[1])
    iy = np.tile(np.arange(shape[1]), shape[0])
    slit = (ix < a) & (iy >= nh) & (iy < nh + w)
    ids = np.where(slit, 0, 1).astype(np.int32)
    cuts = None
    if kind == "precrack":
        from .lattice.precrack import CrackSegment, cut_bonds

        stencil = Stencil(2, m)
        cuts = cut_bonds(lattice, stencil, CrackSegment((0.0, nh * dx), (a * dx, nh * dx)), ids)
    model, lattice, vol, h = _model("strain", shape, dx, gc=None, m=m, ids=ids, cuts=cuts)
    if faces != "geometry":
        _surface_from(model, faces)
    lower, upper = (iy == nh - 1), (iy == nh + w)
    body = np.zeros((lattice.n_sites, 2))
    body[upper & (ix < a), 1] = p / dx
    body[lower & (ix < a), 1] = -p / dx
    fix = np.zeros(lattice.n_sites, np.int32)
    fix[upper & (ix == nx - 1)] = 3
    fix[lower & (ix == nx - 1)] = 1
    zero = np.zeros_like(body)
    model.set_boundary(fix, zero, zero, body)
    model.use_solver("direct", "lu")
    res = model.relax(1e-9, 200_000)
    uy = model.field("u")[:, 1].reshape(shape)
    opening = uy[:a, nh + w] - uy[:a, nh - 1]
    cmod = 1.5 * opening[0] - 0.5 * opening[1]
    e2 = E_REF / (1.0 - PD_POISSON["strain"] ** 2)
    return dict(cmod=cmod, tada=tada_edge_crack_cmod(a / nx) * p * a * dx / e2,
                tada_half_plane=TADA_EDGE_CMOD * p * a * dx / e2,
                area=opening.sum() * dx, area_half_plane=np.pi * 1.1215**2 * p * (a * dx) ** 2 / e2,
                converged=res.converged, shape=shape)


def _surface_from(model: MechanicsModel, faces: str) -> None:
    """Recompute the surface correction of ``model`` counting the bonds ``faces`` names (edge_crack_opening)."""
    from .mechanics import pmb, surface

    present = model.bits
    if faces == "sites":
        start, cells = np.zeros(model.stencil.size + 1, np.int32), np.zeros(1, np.int32)
        cs, cl = ti.ndarray(ti.i32, start.size), ti.ndarray(ti.i32, 1)
        cs.from_numpy(start)
        cl.from_numpy(cells)
        bits, present = (ti.ndarray(ti.u32, model.bits.shape) for _ in range(2))
        pmb.init_bonds(model.mat, model.lin, cs, cl, bits, present)
    surface.surface_factors(model.mat, present, model.lin, model.xi, model.xlen, model.beta, model.gcorr, 2, 4, 1)
    surface.flag_surface_sites(model.mat, model.gcorr, 2)
    pmb.flag_mixed_sites(model.mat, model.lin)
    model.update_fictitious_density()


#: the opening area A·E″/(p a²) of an edge crack under uniform face pressure: half-plane π·1.1215² (energy,
#: docs/verification.md), and the plate b = 5a wide, 2b high of :func:`edge_crack_opening` (finite
#: elements, ``python tools/edge_crack_fe.py``)
EDGE_CRACK_AREA_HALF_PLANE = np.pi * 1.1215**2
EDGE_CRACK_AREA_PLATE = 4.90
#: Klinsmann's coefficient of the pressure-rise rate (seed 001 eq. 9)
KLINSMANN_RATE = 0.44


def klinsmann_rate(crack_sites: int, kind: str = "edge", current_density: float = 10.0, m: float = 3.0) -> dict:
    """The pressure-rise rate of fluid Li plated into a crack at constant current (MODEL.md §7.8).

    ``kind`` "edge": the plate and pre-crack of :func:`edge_crack_opening` (depth a, b = 5a wide, 2b high);
    "centre": a centre pre-crack of half-length a in a square plate 12a wide. Plane strain, free sides,
    three pinned components. The crack is filled with fluid Li (mechanics/fluid.py: every site with a cut
    bond is in the wet cluster, every cut bond is wet), sealed: all the plated Li stays in it, as
    Klinsmann assumes. Plating is prescribed uniformly on both faces at ``current_density`` i (A m⁻²), so
    the Li volume per unit thickness grows at 2·L·i·Ω_Li/F over the crack length L (a, or 2a); the Li's
    bulk modulus is that of seed 000's Li (E = 4.9 GPa, ν = 0.36, plane strain: 6.4 GPa). The pressure
    is read at two plated volumes after equilibrium (direct solver, 1e-10).

    Returns the measured coefficient c = (dp/dt)·a·F/(E″·Ω_Li·i) and its closed forms. Edge crack:
    Klinsmann's 0.44; 2/4.90 = 0.408 for this plate (the finite-element opening area A = 4.90 p a²/E″;
    2/3.951 = 0.506 in a half-plane); ``half_plane``: c times the plate's area factor 4.90/3.951.
    Centre crack: 2/π, from Griffith's elliptical opening, A = 2π p a²/E″ (an infinite plate).
    """
    from .lattice.precrack import CrackSegment, cut_bonds
    from .mechanics.bond_table import kappa_for, with_fluid_li
    from .units import FARADAY_C_PER_MOL, LI_MOLAR_VOLUME_M3_PER_MOL

    dx = 1e-6
    a = crack_sites
    if kind == "edge":
        nx, nh = 5 * a, 5 * a
        shape, segment, length = (nx, 2 * nh), ((0.0, nh * dx), (a * dx, nh * dx)), a
        pins = ((nx - 1, nh, 3), (nx - 1, nh - 1, 1))
    elif kind == "centre":
        w = 12 * a
        c = w // 2
        shape, segment, length = (w, w), (((c - a) * dx, c * dx), ((c + a) * dx, c * dx)), 2 * a
        pins = ((0, 0, 3), (w - 1, 0, 2))
    else:
        raise ValueError(f"kind must be 'edge' or 'centre', not {kind!r}")
    stencil = Stencil(2, m)
    lattice = Lattice(shape, dx, halo=stencil.reach)
    h = dx
    vol = site_volume(dx, 2, h)
    ids = np.ones(lattice.n_sites, np.int32)
    cuts = cut_bonds(lattice, stencil, CrackSegment(*segment), ids)
    se = MaterialSpec("solid", "electrolyte", E_REF, PD_POISSON["strain"], RHO_REF, 1.0, "error")  # no breaking here
    li = MaterialSpec("Li", "lithium", 4.9e9, 0.36, 534.0, None, "match_bulk")
    table = build_bond_table([se, li], {}, "strain", stencil, dx, vol, h)
    table = with_fluid_li(table, 2, kappa_for(li, "strain"))
    model = MechanicsModel(lattice, stencil, ids, table, "strain", h, "f64", cuts=cuts)
    ix = np.arange(shape[0]).repeat(shape[1])
    iy = np.tile(np.arange(shape[1]), shape[0])
    fix = np.zeros(lattice.n_sites, np.int32)
    for px, py, mask in pins:
        fix[(ix == px) & (iy == py)] = mask
    zero = np.zeros((lattice.n_sites, 2))
    model.set_boundary(fix, zero, zero, zero)
    model.use_solver("direct", "lu")
    bits, allowed = model.bits.to_numpy(), model.allowed.to_numpy()
    cut = (allowed & ~bits).any(axis=1)
    fluid = model.fluid
    fluid.update(cut, cut, open_to_void=False)
    rate_v = 2.0 * length * dx * current_density * h * LI_MOLAR_VOLUME_M3_PER_MOL / FARADAY_C_PER_MOL
    times, pressures = (1.0, 2.0), []
    for t in times:
        fluid.set_li(np.where(fluid.member, rate_v * t / fluid.member.sum(), 0.0))
        res = model.relax(1e-10, 100_000)
        pressures.append(float(fluid.pressures()[0]))
    rate = (pressures[1] - pressures[0]) / (times[1] - times[0])
    e2 = E_REF / (1.0 - PD_POISSON["strain"] ** 2)
    coef = rate * a * dx * FARADAY_C_PER_MOL / (e2 * LI_MOLAR_VOLUME_M3_PER_MOL * current_density)
    out = dict(coefficient=coef, pressures=pressures, bodies=fluid.n_bodies, converged=res.converged, shape=shape,
               wet_bonds=int(np.unpackbits(fluid.wet.to_numpy().view(np.uint8)).sum()) // 2)
    if kind == "edge":
        out.update(klinsmann=KLINSMANN_RATE, plate=2.0 / EDGE_CRACK_AREA_PLATE,
                   half_plane=coef * EDGE_CRACK_AREA_PLATE / EDGE_CRACK_AREA_HALF_PLANE,
                   exact_half_plane=2.0 / EDGE_CRACK_AREA_HALF_PLANE)
    else:
        out.update(griffith=2.0 / np.pi)
    return out
