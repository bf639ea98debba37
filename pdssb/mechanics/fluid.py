"""Confined Li as a pressurised fluid: one pressure per connected Li body (``li_mechanics = "fluid"``).

Why a fluid. Li yields at 0.4 MPa (seed 000, Table 1) and is loaded to 10–1000 MPa in a defect, so on
this scale it has no shear strength: Klinsmann et al. (seed 001 eq. 9) treat it as an incompressible,
inviscid fluid exerting a uniform normal stress on the crack walls. Bond-based plastic Li cannot do that:
every bond is a 1D spring, hydrostatic compression stretches every bond alike, so a bond that yields in
shear yields under pure pressure too. Elastic PMB Li bonded to the flanks carries 2–3× more stress along a
slit than across it (docs/coupled_model.md).

Sites. The free Li sites (outside prescribed-displacement regions; the fixed anode layer stays elastic, a
rigid lid) carry the fluid pseudo id of the pair table (c = 0 against every material: no bond force) and
are held at u = 0: their displacement means nothing and is reported as 0. Bonds between two non-fluid
sites that cross a fluid cell are not formed (line of sight treats fluid as void), and the surface
correction and the damage count the mechanical bonds only (MechanicsModel.solid_allowed): the fluid's
faces are free surfaces, and a crack face beside the fluid has the damage of any crack face.

Bodies (:meth:`FluidLi.update`). The connected components (3^d neighbourhood) of the fluid sites and of
the electrolyte sites Li may wet (damage ≥ ``li_follows_crack``, off the counter electrode) form the Li
bodies; a component with no fluid site is a body when it borders Li (the elastic anode: Li plates into a
crack from there too). The wet sites of a body are its *wet cluster*. A body with a member next to a void
that Li can leave through is open (its Li meets a free surface): p = 0. A pore or a free face is such a
void; the halo beyond a domain face whose sites hold their normal displacement (a roller: the symmetry
plane of a periodic array of defects; a clamp) is not, since the Li cannot pass it (:meth:`FluidLi._escape_near`).

Wall and wet bonds. The pressure acts through directed bonds i → k from non-fluid sites i: *wall bonds*
(intact, to a fluid site) and *wet bonds* (broken between two non-fluid sites, with one end or a cell the
bond's segment crosses in a wet cluster: the bond crosses a Li-filled crack; the segment test catches
the bonds of length 2–3 Δx that cross a crack between sites that are not crack faces themselves). Each
carries the force −p w_k n_k on i, with

    w_k = β_k A_col / Σ_{k': o_y > 0} o_y β_k' n_k'y,   A_col = Δx^{d−1} (× h in 2D),

so that the bonds crossing a flat face (o_y of them per column for offset k) give exactly p·A_col normal
to it, and −Σ w_k n_k·u_i is the volume the face sweeps when it moves by u_i. Per site they add up to
a_i = Σ w_k n_k, so the force on site i is F_i = −p_b a_i (the force arrays hold densities: −p_b a_i/V,
V the site volume) and the body's cavity is

    V_cav,b(u) = Σ_{fluid sites of b} V_site − Σ_{sites i of b} a_i·u_i

(for a wet bond the two ends' halves sum to w_k (u_j − u_i)·n_k: the crack opening). F = p ∂V_cav/∂u:
the forces are the virtual work of the pressure. The same weights integrate the cavity's surface
exactly: Σ over wall bonds of (x_i + ξ_k/2) ⊗ w_k n_k = −V_cav I for any union of cells (the second
moment of the stencil is isotropic; bonds inside the union cancel in pairs), so the virial of the wall
forces about the bonds' midpoints is −p I: the Li's stress is hydrostatic (:meth:`FluidLi.li_stress`).

Each site carries the pressure of one body: its own (fluid and wet-cluster sites) or, for a site with wall
or wet bonds outside any cluster, the lowest-numbered body its bonds reach. A site within a horizon of two
bodies thus carries one pressure on all its bonds (bodies that close in merge through their clusters).

Pressure. V_Li,b is the stress-free volume of the body's Li: its fluid sites' nominal volume plus all
that was plated into the body (per site: the plated volume each site holds, so merging bodies sum and a
split body keeps its sites' share). The Li's linear equation of state with bulk modulus K (κ_d of the Li,
as its bonds would have: the 2D in-plane modulus in plane strain/stress) gives

    p_b = K · max(1 − V_cav,b / V_Li,b, 0),

zero when the Li does not fill its cavity (and for an open body). Unlike K(V_Li/V_cav − 1) this stays
finite when a wet crack is closed (V_cav ≤ 0); the two agree to O(p/K) (1 % at 60 MPa).

Stiffness. ∂F/∂u = −(K/V_Li,b) a_b a_bᵀ per pressurised body (a_b: the a_i of its sites; of the force
densities, K/(V V_Li,b) a_b a_bᵀ), rank one:
the direct solver adds it to its operator and, by Sherman–Morrison–Woodbury, to its preconditioner
(:class:`RankUpdate`), so Newton stays exact; ADR sees the forces, with its fictitious density raised by
the Gershgorin bound of these terms (:meth:`FluidLi.stiffen_density`).

Everything per body is summed on the host with ``np.bincount`` (in site order: deterministic).
"""


import numpy as np
import taichi as ti
from scipy import ndimage

from ..lattice.sight import crossing_table
from .bonds import bond_bit
from .pmb import ID_MASK, nd


@ti.kernel
def fluid_forces(avec: nd, aabs: nd, press: nd, fixmask: nd, force: nd, fabs: nd, dim: ti.template(),
                 with_abs: ti.template()):
    """force_i += −p_i a_i/V on the free components; fabs_i += p_i Σ w/V (the magnitudes of the pressure bonds):
    ``avec`` and ``aabs`` hold a_i/V and Σ w/V, force densities as the bond forces are (pmb.py)."""
    for i in range(force.shape[0]):
        p = press[i]
        if p != 0.0:
            f = -p * avec[i]
            fm = fixmask[i]
            for a in ti.static(range(dim)):
                if (fm >> a) & 1:
                    f[a] = 0.0
            force[i] += f
            if ti.static(with_abs):
                fabs[i] += p * aabs[i]


def wall_weights(stencil, dx: float, thickness: float | None) -> np.ndarray:
    """(K, d) w_k n_k: w_k = β_k A_col / Σ_{o_y > 0} o_y β n_y (module docstring)."""
    o = stencil.offsets.astype(np.float64)
    n = o / stencil.length[:, None]
    up = o[:, 1] > 0
    a_col = dx ** (stencil.dim - 1) * (thickness if stencil.dim == 2 else 1.0)
    w = stencil.beta * a_col / float((o[up, 1] * stencil.beta[up] * n[up, 1]).sum())
    return w[:, None] * n


def crossings(stencil, lattice) -> list[np.ndarray]:
    """Per offset k, the flat offsets (from the bond's first end) of the cells its segment crosses (lattice/sight.py)."""
    start, cells = crossing_table(stencil)
    flat = cells.astype(np.int64) @ lattice.strides() if len(cells) else np.zeros(0, np.int64)
    return [flat[start[k]:start[k + 1]] for k in range(stencil.size)]


def fluid_sight(bits: np.ndarray, fluid: np.ndarray, solid: np.ndarray, lin: np.ndarray,
                cross: list[np.ndarray]) -> np.ndarray:
    """``bits`` (padded bond words) less the bonds between two non-fluid sites whose segment crosses a fluid
    cell: line of sight treats fluid Li as void, so a Li-filled slit is a crack, not a bridged gap. Bonds to
    fluid sites stay: they are the walls the pressure acts through."""
    out = bits.copy()
    P = np.nonzero(solid & ~fluid)[0]
    for k in range(lin.shape[0]):
        Q = P + lin[k]
        through = np.zeros(P.shape, bool)
        for c in cross[k]:
            through |= fluid[P + c]
        cut = P[through & solid[Q] & ~fluid[Q]]
        out[cut, k >> 5] &= ~(np.uint32(1) << np.uint32(k & 31))
    return out


class RankUpdate:
    """The fluid bodies' stiffness Σ_b α_b a_b a_bᵀ on the free unknowns: A (n × m, sparse) and α (m,)."""

    def __init__(self, A, alpha: np.ndarray):
        self.A = A
        self.alpha = alpha

    def operator(self, apply):
        """x ↦ apply(x) + A diag(α) Aᵀ x."""
        A, alpha = self.A, self.alpha
        return lambda x: apply(x) + A @ (alpha * (A.T @ x))

    def preconditioner(self, solve):
        """(P + A diag(α) Aᵀ)⁻¹ from P⁻¹ = ``solve`` (Sherman–Morrison–Woodbury: m solves once, then one per
        application); exact when ``solve`` is."""
        A = self.A
        Z = np.column_stack([solve(np.asarray(A[:, j].todense()).ravel()) for j in range(A.shape[1])])
        C = np.diag(1.0 / self.alpha) + A.T @ Z

        def apply(r):
            s = solve(r)
            return s - Z @ np.linalg.solve(C, A.T @ s)

        return apply


class NoFluid:
    """Stands for :class:`RankUpdate` where no body is pressurised: the operator and solve unchanged."""

    @staticmethod
    def operator(apply):
        return apply

    @staticmethod
    def preconditioner(solve):
        return solve


class FluidLi:
    """The fluid Li of one lattice body: its bodies, wall and wet bonds, and pressures (module docstring)."""

    def __init__(self, model, bulk_modulus: float):
        m = model
        self.m = m
        L, st = m.lattice, m.stencil
        n, d = L.n_padded, m.dim
        self.K = float(bulk_modulus)
        self.lin = m.lin.to_numpy().astype(np.int64)
        self.wn = wall_weights(st, L.dx, m.thickness)
        self.w = np.linalg.norm(self.wn, axis=1)
        ids = m.mat.to_numpy() & ID_MASK
        self.solid = ids != 0
        self.fluid = ids == m.table.fluid_id
        self.cross = crossings(st, L)
        self.wet = ti.ndarray(ti.u32, (n, st.words))  # bit k of site i: bond i → k is wet
        self.avec = ti.Vector.ndarray(d, m.fdtype, n)
        self.aabs = ti.ndarray(m.fdtype, n)
        self.press = ti.ndarray(m.fdtype, n)
        for arr in (self.wet, self.avec, self.aabs, self.press):
            arr.fill(0)
        self.body = np.full(n, -1, np.int64)  # the body whose pressure a site carries and whose Li it holds
        self.member = self.fluid.copy()  # fluid sites and wet clusters
        self.wet_sites = np.zeros(n, bool)  # sites with a wet bond
        self.a = np.zeros((n, d))
        self.open = np.zeros(0, bool)
        self.walls = None  # the boundary conditions' fixmask (padded), set by the model: set_walls
        self._escape = None  # sites next to a void the Li leaves through (_escape_near), fixed with the walls
        self.v0 = np.zeros(0)  # nominal volume of each body's fluid sites
        self.v_li = np.zeros(0)  # stress-free Li volume per body
        self.p = np.zeros(0)  # pressure per body (Pa), at the u of the last evaluation
        self.v_cav = np.zeros(0)
        self._carry = np.zeros(0, np.int64)  # sites with a nonzero a_i (those whose u enters V_cav)

    @property
    def n_bodies(self) -> int:
        return int(self.v0.shape[0])

    # ------------------------------------------------------------ bodies
    def set_walls(self, fixmask: np.ndarray) -> None:
        """The boundary conditions' component bitmask per padded site (before the fluid sites are held):
        a domain face whose sites hold their normal displacement is a wall for the Li (:meth:`_escape_near`)."""
        self.walls = np.asarray(fixmask, np.int64)
        self._escape = None

    def _escape_near(self) -> np.ndarray:
        """Padded bool: sites next (3^d neighbourhood) to a void that Li leaves through. A void inside the
        domain (a pore, a free surface) is one. The halo beyond a domain face is one unless the site holds
        its displacement normal to that face (a roller or clamp: a symmetry plane or a rigid wall, which
        keeps the Li in; beyond a free face the Li extrudes). Beyond an edge or corner of the domain every
        face crossed must be held. The solid sites and the walls do not change during a run: computed once."""
        if self._escape is not None:
            return self._escape
        m = self.m
        L = m.lattice
        shape, d, h = L.padded_shape, m.dim, L.halo
        out = np.zeros(shape, np.int64)  # bit a: beyond the domain along axis a
        for a, n in enumerate(L.shape):
            idx = np.arange(shape[a])
            beyond = ((idx < h) | (idx >= h + n)).astype(np.int64) << a
            out |= beyond.reshape([-1 if b == a else 1 for b in range(d)])
        void = (~self.solid).reshape(shape)
        held = np.zeros(shape, np.int64) if self.walls is None else self.walls.reshape(shape)
        near = np.zeros(shape, bool)
        pad = [(1, 1)] * d
        vp, op = np.pad(void, pad), np.pad(out, pad)
        for o in np.ndindex(*(3,) * d):
            if all(c == 1 for c in o):
                continue
            sl = tuple(slice(c, c + s) for c, s in zip(o, shape))
            v, ob = vp[sl], op[sl]  # the neighbour through offset o − 1
            near |= v & ((ob == 0) | ((ob & ~held) != 0))
        self._escape = near.ravel()
        return self._escape

    def update(self, wettable: np.ndarray, li: np.ndarray, open_to_void: bool = True) -> None:
        """Bodies, wet clusters, wall and wet bonds from the current bonds. ``wettable``: padded bool, the
        non-fluid sites Li may wet (damage past li_follows_crack, off the counter electrode; none: cracks stay
        dry); ``li``: padded bool, every Li site (fluid or not: elastic Li seeds the clusters it borders).
        ``open_to_void = False`` keeps a body that reaches a free surface closed (a closed-form check whose
        crack mouth is sealed by its Li source, pdssb.verification.klinsmann_rate)."""
        m = self.m
        shape = m.lattice.padded_shape
        struct = np.ones((3,) * m.dim, bool)
        fl = self.fluid
        cand = wettable & ~fl & self.solid
        lab, n = ndimage.label((fl | cand).reshape(shape), structure=struct)
        lab = lab.ravel()
        li_near = ndimage.binary_dilation(li.reshape(shape), structure=struct).ravel()
        keep = np.zeros(n + 1, bool)
        keep[lab[fl]] = True
        keep[lab[cand & li_near]] = True
        keep[0] = False
        remap = np.full(n + 1, -1, np.int64)
        remap[keep] = np.arange(int(keep.sum()))
        own = remap[lab]  # members' body
        cluster = cand & (own >= 0)
        nb = int(keep.sum())
        self.open = np.bincount(own[(own >= 0) & self._escape_near()], minlength=nb)[:nb] > 0
        if not open_to_void:
            self.open[:] = False

        bits, allowed = m.bits.to_numpy(), m.allowed.to_numpy()
        wet = np.zeros_like(bits)
        # only sites within a stencil's reach of the fluid or a cluster can have a wall or wet bond
        near = ndimage.binary_dilation((fl | cluster).reshape(shape), structure=struct,
                                       iterations=m.stencil.reach).ravel()
        P = np.nonzero(self.solid & ~fl & near)[0]
        big = np.iinfo(np.int64).max
        reach = np.full(P.shape, big)  # lowest body each site's wall and wet bonds reach
        a = np.zeros((P.size, m.dim))
        aabs = np.zeros(P.size)
        bond_sets = []
        for k in range(self.lin.shape[0]):
            Q = P + self.lin[k]
            intact = bond_bit(bits, P, k)
            wall = intact & fl[Q]
            reached = np.where(wall, own[Q], big)
            broken = bond_bit(allowed, P, k) & ~intact & self.solid[Q] & ~fl[Q]
            hit = np.full(P.shape, big)
            for cells in ((P,), (Q,), tuple(P + c for c in self.cross[k])):
                for C in cells:
                    hit = np.where(cluster[C], np.minimum(hit, own[C]), hit)
            wetk = broken & (hit < big)
            reached = np.where(wetk, hit, reached)
            reach = np.minimum(reach, reached)
            on = wall | wetk
            bond_sets.append(on)
            if wetk.any():
                wet[P[wetk], k >> 5] |= np.uint32(1) << np.uint32(k & 31)
        body = np.where(own[P] >= 0, own[P], np.where(reach < big, reach, -1))
        for k, on in enumerate(bond_sets):
            on = on & (body >= 0)
            a[on] += self.wn[k]
            aabs[on] += self.w[k]
        self.body = own.copy()
        self.body[P] = body
        self.member = own >= 0
        self.wet_sites = (wet != 0).any(axis=1)
        self.a = np.zeros((m.lattice.n_padded, m.dim))
        self.a[P] = a
        self._carry = P[(body >= 0) & (aabs > 0)]
        self.v0 = np.bincount(own[fl], minlength=nb)[:nb] * m.volume
        self.v_li = self.v0.copy()
        self.p = np.zeros(nb)
        self.v_cav = self.v0.copy()
        self.wet.from_numpy(wet)
        # the force arrays hold force densities (N m⁻³, pmb.py): a and Σ w per site volume
        self.avec.from_numpy((self.a / m.volume).astype(m.np_float))
        full = np.zeros(m.lattice.n_padded)
        full[P] = aabs
        self.aabs.from_numpy((full / m.volume).astype(m.np_float))
        self.press.fill(0)

    def set_li(self, plated: np.ndarray) -> None:
        """V_Li per body from ``plated`` (padded, m³ of Li each site holds): the fluid sites' nominal volume
        plus the Li of every site the body owns."""
        sel = self.body >= 0
        self.v_li = self.v0 + np.bincount(self.body[sel], weights=plated[sel], minlength=self.n_bodies)

    # ------------------------------------------------------------ pressure and forces
    def pressures(self, u: np.ndarray | None = None) -> np.ndarray:
        """p per body at displacement ``u`` (padded (n, d); default the model's), pushed to the per-site array."""
        if u is None:
            u = self.m.u.to_numpy()
        c = self._carry
        dots = (self.a[c] * u[c]).sum(axis=1)
        self.v_cav = self.v0 - np.bincount(self.body[c], weights=dots, minlength=self.n_bodies)
        closed = ~self.open & (self.v_li > 0)
        safe = np.where(closed, self.v_li, 1.0)
        self.p = np.where(closed, self.K * np.maximum(1.0 - self.v_cav / safe, 0.0), 0.0)
        self.press.from_numpy(self.site_pressure().astype(self.m.np_float))
        return self.p

    def site_pressure(self) -> np.ndarray:
        """Padded per-site pressure (Pa): its body's, 0 off the bodies."""
        out = np.zeros(self.body.shape[0])
        sel = self.body >= 0
        out[sel] = self.p[self.body[sel]]
        return out

    def add_forces(self, with_abs: bool = True) -> None:
        """The pressure forces at the model's current u, added to its force (and fabs) arrays."""
        if not self.n_bodies:
            return
        m = self.m
        self.pressures()
        fluid_forces(self.avec, self.aabs, self.press, m.fixmask, m.force, m.fabs, m.dim, with_abs)

    def stiffness(self, dof: np.ndarray):
        """The pressurised bodies' rank-one stiffness K/(V V_Li) a_b a_bᵀ (of the force densities, V the site
        volume) on the unknowns numbered by ``dof`` (padded (n, d), −1 where prescribed), at the pressures of
        the last evaluation: a :class:`RankUpdate`, or NoFluid."""
        from scipy import sparse

        active = np.nonzero(self.p > 0)[0]
        if not active.size:
            return NoFluid
        col = np.full(self.n_bodies, -1)
        col[active] = np.arange(active.size)
        c = self._carry
        c = c[col[self.body[c]] >= 0]
        rows, cols, vals = [], [], []
        for ax in range(self.m.dim):
            r = dof[c, ax]
            ok = r >= 0
            rows.append(r[ok])
            cols.append(col[self.body[c[ok]]])
            vals.append(self.a[c[ok], ax])
        A = sparse.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                              shape=(int((dof >= 0).sum()), active.size))
        return RankUpdate(A, self.K / (self.m.volume * self.v_li[active]))  # of force densities

    def stiffen_density(self, lam: np.ndarray, fixmask: np.ndarray) -> np.ndarray:
        """ADR's fictitious density plus ¼ of the Gershgorin row sum of the bodies' stiffness,
        K/(V V_Li) |a_i|_∞ Σ_j |a_j|_1 (of force densities: V the site volume), on the sites that carry a
        pressure (closed bodies with Li)."""
        c = self._carry
        closed = ~self.open & (self.v_li > 0)
        if not c.size or not closed.any():
            return lam
        free = np.stack([((fixmask[c] >> ax) & 1) == 0 for ax in range(self.m.dim)], axis=1)
        ac = np.abs(self.a[c]) * free
        norm1 = np.bincount(self.body[c], weights=ac.sum(axis=1), minlength=self.n_bodies)
        alpha = np.where(closed, self.K / (self.m.volume * np.where(closed, self.v_li, 1.0)), 0.0)
        out = lam.copy()
        out[c] += 0.25 * alpha[self.body[c]] * ac.max(axis=1) * norm1[self.body[c]]
        return out

    # ------------------------------------------------------------ reporting
    def li_stress(self, b: int, u: np.ndarray | None = None) -> np.ndarray:
        """(d, d) mean stress of body b's Li from the virial of the forces it puts on its walls, each at the
        midpoint of its bond: σ V_cav = Σ_{wall, wet bonds} (y_i + ŷ_k/2) ⊗ (−F_ik) with y the deformed
        positions. For a fluid on a union of cells it is −p I (module docstring)."""
        m = self.m
        if u is None:
            u = m.u.to_numpy()
        u = u.astype(np.float64)
        bits = m.bits.to_numpy()
        wet = self.wet.to_numpy()
        x = np.stack(np.unravel_index(np.arange(self.body.shape[0]), m.lattice.padded_shape), axis=1) * m.lattice.dx
        xi = m.stencil.offsets * m.lattice.dx
        P = self._carry[self.body[self._carry] == b]
        s = np.zeros((m.dim, m.dim))
        for k in range(self.lin.shape[0]):
            Q = P + self.lin[k]
            on = (bond_bit(bits, P, k) & self.fluid[Q]) | bond_bit(wet, P, k)
            p, q = P[on], Q[on]
            mid = x[p] + u[p] + 0.5 * (xi[k] + u[q] - u[p])
            s += self.p[b] * (mid.T @ np.broadcast_to(self.wn[k], mid.shape))
        return s / self.v_cav[b]

    # ------------------------------------------------------------ checkpoint
    def state(self, prefix: str) -> dict[str, np.ndarray]:
        return {prefix + "wet": self.wet.to_numpy(), prefix + "body": self.body, prefix + "member": self.member,
                prefix + "open": self.open}
