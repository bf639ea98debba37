"""Li intercalation in the active material: ∂c/∂t = ∇·(D∇c) on the lattice bonds, D a tensor per grain.

Unknown: the Li concentration c (mol m⁻³) at every active-material site. Between two sites i, j = i + ξ_k
of one grain the bond carries the molar flow V g_k (c_j − c_i) (mol s⁻¹, V the site volume), with
per-grain, per-offset conductances g_k = g_{−k} ≥ 0 (s⁻¹). The site balance

    V dc_i/dt = Σ_k V g_k (c_j − c_i) + A_i q_i

is consistent with ∇·(D∇c) when the discrete second moment equals the tensor,

    ½ Σ_k g_k ξ_k ξ_kᵀ = D,

because for a quadratic c the sum over a symmetric stencil is ½ Σ_k g_k ξ_kᵀ H ξ_k = tr(D H). Non-negative
g_k make the operator an M-matrix: monotone, no negative concentrations, a discrete maximum principle.
An isotropic D gets the stencil's own kernel exactly (g_k ∝ β_k/|ξ_k|², the weights conduction.py uses).
An anisotropic D is fitted by non-negative least squares on the d(d+1)/2 components of the second moment
(Frobenius norm: off-diagonals weighted √2, so the fit does not depend on the lattice's orientation). The
cone {Σ a_k ξ_k ξ_kᵀ, a_k ≥ 0} holds exactly the tensors the lattice directions can represent; the rest
come back with a residual, and for the NCM111 tensor (D11 = D22 = 10⁶ D33) that residual is almost all
*leakage*: a fast diffusivity along the slow c-axis that the lattice cannot avoid unless some lattice
directions lie in the grain's fast plane (docs/cathode.md tabulates it). Among the many exact solutions
the fit takes the one of least Σ a_k²/w_k, w_k = β_k/|ξ_k|⁴ (Tikhonov rows appended to the NNLS system
under a weight 10⁶ on the moment rows): it spreads the conductance over all directions in proportion to
the isotropic kernel instead of picking a vertex of the cone, which could leave sublattices uncoupled
(two diagonal directions alone split a square lattice into two checkerboards).

Between grains a bond takes the harmonic mean of the two grains' g_k (series resistances). Bonds exist
only between active sites; a bond mask (broken bonds) removes more. The surface is where active sites have
bonds (of an interface stencil, the mechanics one in a coupled run) to reactive matrix sites. Each such
bond carries the area a_k = β_k A_col / Σ_{k': o_y > 0} o_y β_k' (A_col = Δx^{d−1}, times the thickness
in 2D), so that the bonds crossing a flat surface add up to its area; this is how conduction.py counts the
Li|electrolyte area. A bond's area is credited to the last active site on its way out of the particle, so
the surface area sits on the outermost sites and not on a layer as deep as the horizon (an injection layer
δ deep would hold the surface concentration low and overstate the uptake). The area of a site, A_i,
receives the molar flux density q_i (mol m⁻² s⁻¹, positive into the particle).

Time: backward Euler. It is L-stable and keeps the M-matrix property for every Δt (the matrix
V/Δt·I + L is an M-matrix, so c^{n+1} ≥ 0 whenever c^n and the influx are), so neither the 10⁻²⁰ m² s⁻¹
direction nor the stiff lattice modes limit Δt, and a current switch (charge to discharge) cannot make the
concentration oscillate. Crank–Nicolson is second order but not L-stable: its stiff modes flip sign at
large Δt and it is positive only for Δt below ~2Δx²/(2dD). The surface flux may depend on c (Butler–Volmer
through U(c)); it is linearised at c^n, q_i(c) ≈ q_i + q'_i (c − c^n) with q'_i ≤ 0, and the slope enters
the diagonal, so the system stays symmetric positive definite. The molar balance of a step,
Σ V (c^{n+1} − c^n) = Δt Σ A_i q_i(c^{n+1}), holds to round-off: the unknown is the increment, and the
CG iterate is corrected (relatively, by the order of the solver tolerance) so that it satisfies the
balance the exact solution satisfies; it is returned with every step.

The system is assembled with NumPy per stencil offset (as electrochem/direct.py does) and solved on the
host by conjugate gradients preconditioned with an exact factorisation or AMG (linalg.py), refactorised
when Δt or the flux slope has changed enough that CG needs more than a few iterations.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import nnls

from ..lattice.grid import Lattice
from ..lattice.stencil import Stencil
from ..linalg import Preconditioner, pcg, preconditioner_kind, sparse_load, sparse_state
from ..mechanics.pmb import site_volume

#: weight of the second-moment rows against the Tikhonov rows of the conductance fit: the moment misfit
#: it tolerates for a tensor the lattice represents exactly is ~1/weight² of D (1e-12)
MOMENT_WEIGHT = 1e6
#: a tensor whose deviator is below this fraction of its mean eigenvalue is treated as isotropic
ISOTROPY_TOLERANCE = 1e-12
#: relative residual of the step's linear solve
SOLVE_RTOL = 1e-13
#: CG iterations with a stale preconditioner above which it is rebuilt from the current matrix
REFACTOR_AFTER = 8


def half_offsets(stencil: Stencil) -> np.ndarray:
    """Indices of the offsets o > 0 (lexicographically): one per bond direction ±o."""
    zero = (0,) * stencil.dim
    return np.array([k for k, o in enumerate(stencil.offsets) if tuple(int(c) for c in o) > zero], dtype=np.int64)


def _sym_components(dim: int) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    iu = np.triu_indices(dim)
    return iu, np.where(iu[0] == iu[1], 1.0, math.sqrt(2.0))


@dataclass(frozen=True)
class ConductanceFit:
    """Bond conductances of one diffusivity tensor on one stencil."""

    g: np.ndarray  # (K,) s⁻¹, g[k] = g[opposite(k)] ≥ 0
    tensor: np.ndarray  # (d, d) m² s⁻¹: the tensor asked for
    represented: np.ndarray  # (d, d) m² s⁻¹: ½ Σ g_k ξ_k ξ_kᵀ, what the lattice carries

    @property
    def residual(self) -> float:
        """‖represented − tensor‖_F / largest eigenvalue of the tensor."""
        return float(np.linalg.norm(self.represented - self.tensor) / np.linalg.eigvalsh(self.tensor).max())

    def along(self, n: np.ndarray) -> float:
        """nᵀ D n of the represented tensor (m² s⁻¹) along the unit vector n."""
        n = np.asarray(n, dtype=float)
        return float(n @ self.represented @ n)


def second_moment(stencil: Stencil, g: np.ndarray, dx: float) -> np.ndarray:
    """½ Σ_k g_k ξ_k ξ_kᵀ (m² s⁻¹) for conductances g (s⁻¹) on offsets ξ_k = o_k Δx."""
    xi = stencil.offsets.astype(np.float64) * dx
    return 0.5 * np.einsum("k,ki,kj->ij", g, xi, xi)


def fit_conductances(stencil: Stencil, tensor: np.ndarray, dx: float) -> ConductanceFit:
    """Non-negative bond conductances g_k whose second moment is (as close as the lattice allows) ``tensor``."""
    d = stencil.dim
    D = np.asarray(tensor, dtype=np.float64)
    # symmetric to round-off of its largest entry: R diag(D) Rᵀ of an isotropic D has off-diagonal entries
    # of round-off size whose transposes differ relatively by O(1)
    if D.shape != (d, d) or not np.allclose(D, D.T, rtol=0.0, atol=1e-12 * float(np.abs(D).max(initial=0.0))):
        raise ValueError(f"diffusivity tensor must be a symmetric {d}×{d} matrix")
    ev = np.linalg.eigvalsh(D)
    if ev.min() < 0.0 or ev.max() <= 0.0:
        raise ValueError("diffusivity tensor must be positive semi-definite and non-zero")
    scale = float(ev.mean())
    lengths = stencil.length
    kernel = stencil.beta / lengths**2  # the isotropic kernel's shape
    g = np.zeros(stencil.size)
    if np.abs(D - scale * np.eye(d)).max() <= ISOTROPY_TOLERANCE * scale:
        # ½ Σ g ξξᵀ = (1/2d) Σ g |ξ|² I on a stencil with cubic symmetry
        g = 2.0 * d * scale * kernel / (float((kernel * lengths**2).sum()) * dx * dx)
    else:
        half = half_offsets(stencil)
        o = stencil.offsets[half].astype(np.float64)
        iu, w = _sym_components(d)
        A = np.stack([np.outer(v, v)[iu] * w for v in o], axis=1)  # moment of a_h = 1 on ±o_h, in Δx²
        b = D[iu] * w / (scale * dx * dx)
        pref = np.sqrt(stencil.beta[half] / lengths[half] ** 4)  # a = pref·y: min Σ a²/w = min Σ y²
        M = np.vstack([MOMENT_WEIGHT * A * pref[None, :], np.eye(len(half))])
        rhs = np.concatenate([MOMENT_WEIGHT * b, np.zeros(len(half))])
        y, _ = nnls(M, rhs, maxiter=50 * len(half))
        a = y * pref * scale
        opposite = stencil.opposite()
        g[half] = a
        g[opposite[half]] = a
    return ConductanceFit(g, D, second_moment(stencil, g, dx))


def interface_bond_areas(stencil: Stencil, dx: float, thickness: float | None) -> np.ndarray:
    """Area (m²) carried by one bond of each offset, so that the bonds crossing a flat surface sum to its area."""
    on = stencil.offsets[:, 1]
    a_col = dx ** (stencil.dim - 1) * (float(thickness) if stencil.dim == 2 else 1.0)
    return stencil.beta * a_col / float((on[on > 0] * stencil.beta[on > 0]).sum())


def _pairs(shape: tuple[int, ...], offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat C-order indices (p, p + offset) of every site pair of an interior grid joined by ``offset``."""
    if any(abs(int(c)) >= n for c, n in zip(offset, shape)):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    grid = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    src = tuple(slice(max(0, -int(c)), n - max(0, int(c))) for c, n in zip(offset, shape))
    dst = tuple(slice(max(0, int(c)), n - max(0, -int(c))) for c, n in zip(offset, shape))
    return grid[src].ravel(), grid[dst].ravel()


def _walk(offset: np.ndarray) -> list[np.ndarray]:
    """The lattice points a bond along ``offset`` passes, in order (rounded samples, without 0 and offset)."""
    o = np.asarray(offset, dtype=np.float64)
    steps = 8 * int(np.abs(o).max())
    out: list[np.ndarray] = []
    for t in np.arange(1, steps) / steps:
        r = np.rint(t * o).astype(np.int64)
        if r.any() and (r != offset).any() and not any((r == v).all() for v in out):
            out.append(r)
    return out


@dataclass(frozen=True)
class InterfaceBonds:
    """The bonds (of one stencil) from active sites to matrix sites, one row per bond, each side's site."""

    active: np.ndarray  # flat index of the bond's active end
    matrix: np.ndarray  # flat index of its matrix end
    offset: np.ndarray  # stencil offset index k (active → matrix)
    entry: np.ndarray  # the last active lattice point on the way out: where the bond's area sits
    exit: np.ndarray  # the first lattice point past it (matrix): where the flux enters the matrix
    area: np.ndarray  # a_k (m²)


def interface_bonds(lattice: Lattice, stencil: Stencil, active: np.ndarray, matrix: np.ndarray,
                    thickness: float | None) -> InterfaceBonds:
    """Every bond (of ``stencil``) from an active site i to a matrix site j, with its area a_k, the last active
    lattice point on the way from i to j (the bond's surface site) and the first point past it (its matrix
    site), so that the area of a surface lands on the outermost active sites and its flux on the first
    matrix layer, not on layers as deep as the horizon."""
    shape = lattice.shape
    a_k = interface_bond_areas(stencil, lattice.dx, thickness)
    coords = np.stack(np.unravel_index(np.arange(lattice.n_sites), shape), axis=1)
    strides = np.array([int(np.prod(shape[a + 1:])) for a in range(len(shape))], dtype=np.int64)
    cols = {name: [] for name in ("active", "matrix", "offset", "entry", "exit")}
    for k, o in enumerate(stencil.offsets):
        p, q = _pairs(shape, o)
        sel = active[p] & matrix[q]
        p, q = p[sel], q[sel]
        entry, out = p.copy(), q.copy()
        going = np.ones(len(p), dtype=bool)
        for r in _walk(o):
            at = coords[p] + r
            inside = np.all((at >= 0) & (at < np.array(shape)), axis=1)
            idx = np.where(inside, at @ strides, 0)
            on = going & inside & active[idx]
            leaving = going & inside & ~active[idx] & matrix[idx]
            entry = np.where(on, idx, entry)
            out = np.where(leaving, idx, out)
            going &= on
        for name, v in (("active", p), ("matrix", q), ("offset", np.full(len(p), k)), ("entry", entry),
                        ("exit", out)):
            cols[name].append(v)
    out = {name: np.concatenate(v).astype(np.int64) if v else np.zeros(0, np.int64) for name, v in cols.items()}
    return InterfaceBonds(**out, area=a_k[out["offset"]])


def surface_areas(lattice: Lattice, stencil: Stencil, active: np.ndarray, matrix: np.ndarray,
                  thickness: float | None) -> np.ndarray:
    """A_i (m²): the interface-bond areas of the particle surface, each on the site where its bond leaves
    (:func:`interface_bonds`). The total is the bond count of the surface."""
    b = interface_bonds(lattice, stencil, active, matrix, thickness)
    return np.bincount(b.entry, weights=b.area, minlength=lattice.n_sites)


def bond_laplacian(lattice: Lattice, stencil: Stencil, active: np.ndarray, group: np.ndarray, gtab: np.ndarray,
                   volume: float, bond_mask: np.ndarray | None = None) -> tuple[sparse.csr_matrix, np.ndarray]:
    """L = Σ_bonds V g_ij (e_i − e_j)(e_i − e_j)ᵀ over the bonds between active sites, and the active sites.

    ``group``: (n_sites,) the row of ``gtab`` (G, K: conductances per offset, s⁻¹) each active site takes;
    between groups a bond takes the harmonic mean (series resistances). Unknowns are numbered in the order
    of the active sites. Used for diffusion (a group per grain) and for conduction (a group per material).
    """
    sites = np.nonzero(active)[0]
    index = np.full(lattice.n_sites, -1, dtype=np.int64)
    index[sites] = np.arange(len(sites))
    opposite = stencil.opposite()
    rows, cols, vals = [], [], []
    for k in half_offsets(stencil):
        p, q = _pairs(lattice.shape, stencil.offsets[k])
        sel = active[p] & active[q]
        if bond_mask is not None:
            sel &= bond_mask[p, k] & bond_mask[q, opposite[k]]
        p, q = p[sel], q[sel]
        ga, gb = gtab[group[p], k], gtab[group[q], k]
        gh = np.where((ga > 0) & (gb > 0), 2.0 * ga * gb / np.where(ga + gb > 0, ga + gb, 1.0), 0.0)
        keep = gh > 0
        ip, iq, w = index[p[keep]], index[q[keep]], volume * gh[keep]
        rows += [ip, iq, ip, iq]
        cols += [iq, ip, ip, iq]
        vals += [-w, -w, w, w]
    n = len(sites)
    if not rows:
        return sparse.csr_matrix((n, n)), sites
    L = sparse.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    return L.tocsr(), sites


@dataclass(frozen=True)
class StepResult:
    """One backward-Euler step."""

    influx: float  # mol s⁻¹: Σ A_i q_i(c^{n+1}), the surface flux the step delivered
    gained: float  # mol: V Σ (c^{n+1} − c^n)
    moles: float  # mol: Σ c^{n+1} V
    cg_iterations: int
    dt: float  # s
    residual: float  # ‖b − A δ‖ / ‖b‖ of the step's linear system
    shift: float = 0.0  # V: the voltage change ΔV of a galvanostatic step (0 otherwise)

    def balance_error(self) -> float:
        """(ΔN − Δt·influx) / |Δt·influx|: the step's molar balance, zero to round-off."""
        return (self.gained - self.dt * self.influx) / abs(self.dt * self.influx)


class Intercalation:
    """The Li concentration of the active material on one lattice and its implicit diffusion step.

    ``active``: (n_sites,) bool, the active-material sites. ``grain``: (n_sites,) int, the grain of each
    active site (0..G−1; ignored elsewhere). ``tensors``: (G, d, d) m² s⁻¹, the lab-frame diffusivity of
    each grain. ``area``: (n_sites,) m², the surface area of each site (see :func:`surface_areas`).
    ``bond_mask``: optional (n_sites, K) bool, False for bonds that carry no flux (cracks).
    """

    def __init__(self, lattice: Lattice, stencil: Stencil, active: np.ndarray, grain: np.ndarray,
                 tensors: np.ndarray, area: np.ndarray, thickness: float | None = None,
                 bond_mask: np.ndarray | None = None, preconditioner: str = "auto"):
        if stencil.dim != lattice.dim:
            raise ValueError("stencil and lattice dimensions differ")
        if lattice.dim == 2 and not (thickness and thickness > 0):
            raise ValueError("a 2D lattice needs a positive thickness (m)")
        n = lattice.n_sites
        self.active = np.asarray(active, dtype=bool).reshape(n)
        if not self.active.any():
            raise ValueError("no active-material sites")
        tensors = np.asarray(tensors, dtype=np.float64)
        grain = np.asarray(grain, dtype=np.int64).reshape(n)
        if tensors.ndim != 3 or tensors.shape[1:] != (lattice.dim, lattice.dim):
            raise ValueError(f"tensors must be (G, {lattice.dim}, {lattice.dim})")
        g_act = grain[self.active]
        if g_act.min() < 0 or g_act.max() >= len(tensors):
            raise ValueError("grain index outside 0..G−1 on an active site")
        self.lattice, self.stencil = lattice, stencil
        self.volume = site_volume(lattice.dx, lattice.dim, thickness)
        self.fits = [fit_conductances(stencil, t, lattice.dx) for t in tensors]
        self.index = np.full(n, -1, dtype=np.int64)
        self.sites = np.nonzero(self.active)[0]
        self.index[self.sites] = np.arange(len(self.sites))
        self.area = np.asarray(area, dtype=np.float64).reshape(n)[self.sites]
        self.c = np.zeros(len(self.sites))
        self.preconditioner = preconditioner
        self._laplacian = self._assemble(grain, bond_mask)
        self._key = None
        self._factor = None
        self._factor_matrix = None
        self.stats = dict(factorisations=0, cg_iterations=0)

    @property
    def n(self) -> int:
        """Number of active sites (unknowns)."""
        return len(self.sites)

    def _assemble(self, grain: np.ndarray, bond_mask: np.ndarray | None) -> sparse.csr_matrix:
        """The Laplacian L (mol s⁻¹ per mol m⁻³) of the grains' conductances (:func:`bond_laplacian`)."""
        gtab = np.stack([f.g for f in self.fits])  # (G, K)
        L, _ = bond_laplacian(self.lattice, self.stencil, self.active, grain, gtab, self.volume, bond_mask)
        return L

    def set_concentration(self, c: np.ndarray | float) -> None:
        """c on the active sites: a scalar, an (n_active,) array, or an (n_sites,) lattice array."""
        c = np.asarray(c, dtype=np.float64)
        if c.ndim == 0:
            self.c = np.full(self.n, float(c))
        elif c.shape == (self.n,):
            self.c = c.copy()
        elif c.shape == (self.lattice.n_sites,):
            self.c = c[self.sites].copy()
        else:
            raise ValueError("concentration must be a scalar, (n_active,) or (n_sites,)")

    def field(self, fill: float = 0.0) -> np.ndarray:
        """c on the whole lattice (n_sites,), ``fill`` off the active material."""
        out = np.full(self.lattice.n_sites, fill)
        out[self.sites] = self.c
        return out

    def moles(self) -> float:
        """Σ c V (mol)."""
        return float(self.c.sum() * self.volume)

    def surface_sites(self) -> np.ndarray:
        """Flat lattice indices of the sites that carry surface area."""
        return self.sites[self.area > 0]

    def surface_concentration(self) -> np.ndarray:
        """c at the sites that carry surface area (the order of :meth:`surface_sites`)."""
        return self.c[self.area > 0]

    def _on_active(self, values: np.ndarray | float | None) -> np.ndarray:
        if values is None:
            return np.zeros(self.n)
        v = np.asarray(values, dtype=np.float64)
        if v.ndim == 0:
            return np.full(self.n, float(v))
        if v.shape == (self.n,):
            return v
        if v.shape == (self.lattice.n_sites,):
            return v[self.sites]
        raise ValueError("surface data must be a scalar, (n_active,) or (n_sites,)")

    def step(self, dt: float, flux: np.ndarray | float, slope: np.ndarray | float | None = None,
             voltage_slope: np.ndarray | float | None = None, total: float | None = None) -> StepResult:
        """Advance c by one backward-Euler step of length ``dt`` (s).

        ``flux``: q_i (mol m⁻² s⁻¹, positive into the particle) at c^n; ``slope``: ∂q_i/∂c ≤ 0 (m s⁻¹), the
        linearisation of a c-dependent flux (None: a prescribed flux). Both are read on the surface sites
        only (A_i = 0 elsewhere).

        Galvanostatic control: with ``total`` (mol s⁻¹) the flux is q_i + ∂q_i/∂c δ_i + r_i ΔV, r_i =
        ``voltage_slope`` (∂q_i/∂V, mol m⁻² s⁻¹ V⁻¹), and the scalar ΔV is solved with the step so that
        Σ A_i q_i(c^{n+1}) = ``total``: the surface redistributes the current as U(c) changes while the cell
        passes the set current. Then ΣV(c^{n+1} − c^n) = Δt·total to round-off, and the result's ``shift``
        is ΔV.
        """
        if not dt > 0:
            raise ValueError("dt must be positive")
        q = self._on_active(flux)
        s = -self._on_active(slope)
        if (s < 0).any():
            raise ValueError("flux slope ∂q/∂c must be ≤ 0 (a flux that grows with c is unstable)")
        sa = self.area * s
        diag = self.volume / dt + sa
        A = (self._laplacian + sparse.diags(diag)).tocsr()
        # the increment δ = c^{n+1} − c^n: (V/Δt + A s + L) δ = A q − L c^n
        rhs = self.area * q - self._laplacian @ self.c
        key = (float(dt), zlib.crc32(sa.tobytes()))
        if self._factor is None:
            self._factorise(A, key)
        delta, it = pcg(A, self._factor.solve, rhs, SOLVE_RTOL, 500)
        shift = 0.0
        if total is not None:
            r = self._on_active(voltage_slope)
            # δ = δ0 + ΔV δ1, both with the same matrix; ΔV from the constraint on the total flux
            delta1, it1 = pcg(A, self._factor.solve, self.area * r, SOLVE_RTOL, 500)
            it += it1
            denom = float((self.area * (r - s * delta1)).sum())
            if denom == 0.0:
                raise ValueError("galvanostatic step: the surface flux does not depend on the voltage")
            shift = (float(total) - float((self.area * (q - s * delta)).sum())) / denom
            delta = delta + shift * delta1
        if key != self._key and it > REFACTOR_AFTER:
            self._factorise(A, key)
        self.stats["cg_iterations"] += it
        # L's columns sum to zero, so the exact δ satisfies Σ (V/Δt + A s) δ = Σ A (q + r ΔV), and with the
        # constraint Σ V δ = Δt·total: Li is conserved. The iterate meets it to the solver tolerance; a
        # relative correction λ|δ| (λ of that order, zero where nothing moved, so a disconnected fragment
        # stays untouched) makes it hold to round-off.
        if total is None:
            weight = float((diag * np.abs(delta)).sum())
            if weight > 0.0:
                delta += (float((self.area * q).sum()) - float((diag * delta).sum())) / weight * np.abs(delta)
            influx = float((self.area * (q - s * delta)).sum())
        else:
            weight = float(np.abs(delta).sum()) * self.volume
            if weight > 0.0:
                delta += (dt * float(total) - float(delta.sum()) * self.volume) / weight * np.abs(delta)
            influx = float(total)
        residual = float(np.linalg.norm(rhs + self.area * self._on_active(voltage_slope) * shift - A @ delta)) \
            / max(float(np.linalg.norm(rhs)), 1e-300)
        self.c = self.c + delta
        return StepResult(influx, float(delta.sum()) * self.volume, self.moles(), it, float(dt), residual, shift)

    def _factorise(self, A: sparse.csr_matrix, key) -> None:
        self._factor = Preconditioner(A, preconditioner_kind(self.preconditioner, self.n))
        self._factor_matrix = A
        self.stats["factorisations"] += 1
        self._key = key

    def state(self, prefix: str) -> dict[str, np.ndarray]:
        """c and the matrix the preconditioner was built from: a resumed run rebuilds the same one."""
        out = {prefix + "c": self.c.copy()}
        if self._factor is not None:
            out.update(sparse_state(self._factor_matrix, prefix + "factor."))
            out[prefix + "factor_dt"] = np.array([self._key[0]])
            out[prefix + "factor_slope"] = np.array([self._key[1]], dtype=np.int64)
        return out

    def load(self, arrays: dict[str, np.ndarray], prefix: str) -> None:
        """Put back what :meth:`state` returned."""
        self.c = np.array(arrays[prefix + "c"], dtype=np.float64)
        A = sparse_load(arrays, prefix + "factor.")
        self._factor = None
        if A is not None:
            self._factorise(A.tocsr(), (float(arrays[prefix + "factor_dt"][0]), int(arrays[prefix + "factor_slope"][0])))
            self.stats["factorisations"] -= 1
