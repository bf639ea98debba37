"""Quasi-static equilibrium by Newton steps on the sparse bond stiffness, solved by preconditioned CG
(``solver.method = "direct"``), with ADR as the last resort.

Equilibrium is the same as ADR's: the net PMB force (pmb.bond_forces, geometrically non-linear, with
eigenstrains) vanishes on every free component, to ‖F‖ ≤ tol·‖F_abs‖. It is reached by Newton-like steps
K δu = F(u), u ← u + δu, with K the small-strain bond stiffness of the intact bonds (assembly.py): the
exact tangent at the reference state, so each step cuts the residual by the order of the strain (1e-3)
and two or three steps converge. K δu = F is solved by conjugate gradients preconditioned with the
factor cache (factor.py: the matrix as it was when the preconditioner was last built, with the bonds
broken since folded in by Woodbury), K carrying the support shift of its unsupported unknowns
(support.py). No reference Newton step moves a site by more than 5 % of Δx (a current-tangent step,
below: TANGENT_MAX_STEP, 50 %).

The parts: assembly.py (K and K_t from the bonds), support.py (the shift of fragments and mechanisms),
factor.py (K kept up to date with the bonds, its preconditioner and low-rank update), and this driver.

Large rotations: the current tangent. K is the tangent at the reference state. Where a cluster of
sites has turned about a hinge (a site it still hangs on once the bonds around it broke), or the
eigenstrains are large, its steps stop contracting the residual: they leave more than CONTRACTION
of it, make it grow, or must be clipped. The relaxation then goes on with Newton steps on the
current tangent K_t (assembly.BondStiffness.current_tangent: each bond's stiffness along its present
direction plus the geometric stiffness of its tension across it), solved by CG preconditioned with K's
factorisation (K_t − K is small on most bonds: one to three iterations); a step that made the residual
grow is taken back first. These steps converge quadratically where the reference ones fall into a
two-cycle (docs/validation.md, "Solver tolerance"). Every relaxation starts with the reference K again,
which keeps the break sequence the one that runs at tighter tolerances converge to (docs/benchmarks.md,
"ADR fall-backs replaced by current-tangent Newton steps"). ADR remains the last resort when neither
converges in ``max_outer`` steps. Known limit: a hinge in compression has a negative stiffness that
K_t leaves out, so near such a (nearly unstable) equilibrium K_t's steps can drive the residual up
before it falls again, and ADR may take over (docs/benchmarks.md records a case); a step control on
the energy instead of the residual would be the remedy.

Fluid Li (fluid.py) adds one rank-one stiffness per pressurised body, K/(V V_Li) a aᵀ: every CG operator
below carries it and every preconditioner takes it in by Sherman–Morrison–Woodbury (fluid.RankUpdate),
so the Newton steps stay exact however stiff the Li is against the crack it fills.

Everything is deterministic, so reruns agree bit for bit.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ...linalg import pcg, positive_definite_solve
from ..fluid import NoFluid
from ..relax import RelaxResult
from .adr import ADRSolver
from .assembly import BondStiffness
from .factor import FactorCache
from .support import SupportShift

#: a reference-K Newton step that leaves more than this fraction of the residual hands over to the
#: current tangent for the rest of the relaxation (normal steps leave O(strain), ≈ 1e-3–1e-2)
CONTRACTION = 0.1
#: largest displacement update of a current-tangent step, in Δx
TANGENT_MAX_STEP = 0.5
#: CG iterations on K_t δu = F with the reference preconditioner before K_t is factorised itself
TANGENT_CG_MAX = 30
#: Newton steps per relaxation before ADR takes over (brittle bonds; softening bonds)
MAX_OUTER = 12
MAX_OUTER_SOFTENING = 80
#: force evaluations of one line search along a secant step (softening bonds)
LINE_SEARCH_EVALS = 4
#: shifts μ (× the mean diagonal) tried on a consistent tangent that is not positive definite
LM_SHIFTS = (0.0, 1e-4, 1e-3, 1e-2, 1e-1)


class _Operator:
    """``A @ x`` from a function (what linalg.pcg needs of A)."""

    def __init__(self, apply):
        self.apply = apply

    def __matmul__(self, x):
        return self.apply(x)


class NewtonSolver:
    """Newton–PCG on the host factorisation of the bond stiffness (module docstring); ADR when it stalls."""

    method = "direct"

    def __init__(self, model, refactor_after: int = 10, shift: float = 1e-3, max_step: float = 0.05,
                 preconditioner: str = "auto"):
        self.m = model
        self.refactor_after = refactor_after
        self.max_step = max_step * model.lattice.dx  # largest displacement update per Newton step
        self.stats = dict(factorisations=0, cg_iterations=0, outer_iterations=0, shifted_unknowns=0)
        self.assembly = BondStiffness(model)
        self.support = SupportShift(self.assembly, shift, self.stats)
        self.cache = FactorCache(self.assembly, self.support, preconditioner, self.stats)
        self.fallback = ADRSolver()
        self._fl = NoFluid  # the fluid Li bodies' stiffness at the current Newton iterate (fluid.RankUpdate)

    def relax(self, model, tolerance: float, max_iterations: int, check_every: int = 25) -> RelaxResult:
        """Newton steps to the tolerance; should they stall (a near-mechanism: sites left with too few
        bonds), ADR takes over from where they are, with ``max_iterations`` sweeps."""
        r = self.newton(tolerance)
        if r.converged:
            return r
        self.stats["adr_fallbacks"] = self.stats.get("adr_fallbacks", 0) + 1
        a = self.fallback.relax(model, tolerance, max_iterations, check_every)
        return RelaxResult(r.iterations + a.iterations, a.residual, a.converged)

    def reset(self) -> None:
        """Forget K and its factorisation; the next solve assembles and factorises afresh."""
        self.cache.reset()

    def state(self, prefix: str) -> dict[str, np.ndarray]:
        return self.cache.state(prefix)

    def load(self, arrays: dict[str, np.ndarray], prefix: str) -> None:
        self.cache.load(arrays, prefix)

    def current_tangent(self, consistent: bool = False) -> sparse.csc_matrix:
        """K_t at the model's u with the support shift (assembly.BondStiffness.current_tangent)."""
        c = self.cache
        return self.assembly.current_tangent(c.mat, c.bits, c.hist, c.shift, consistent)

    def newton(self, tolerance: float, max_outer: int | None = None) -> RelaxResult:
        """Newton steps to ‖F‖ ≤ tolerance·‖F_abs‖ (the ADR criterion), warm-started from the current u.

        ``max_outer`` Newton steps at most (default MAX_OUTER, or MAX_OUTER_SOFTENING when bonds soften:
        the secant steps of a growing process zone converge linearly)."""
        m = self.m
        if max_outer is None:
            max_outer = MAX_OUTER_SOFTENING if m.softening else MAX_OUTER
        m.impose_boundary()
        self.cache.refresh(m)
        dof = self.assembly.dof
        free = dof >= 0
        res = prev = float("inf")
        tangent = clipped = False
        for it in range(max_outer + 1):
            m.compute_forces()
            F = m.force.to_numpy().astype(np.float64)
            fabs = m.fabs.to_numpy().astype(np.float64)
            rhs = F[free]  # free components, in dof order (C order of (site, axis))
            aa = float((fabs * fabs).sum())
            rr = float((rhs * rhs).sum())
            res = 0.0 if rr == 0 else (float(np.sqrt(rr / aa)) if aa > 0 else float("inf"))
            at_rest = rr <= m.force_floor2 and aa <= m.force_floor2
            if not np.isfinite(res) and not at_rest:
                raise FloatingPointError("direct solve: residual is not finite")
            if res <= tolerance or at_rest:
                return RelaxResult(it, res, True)
            if it == max_outer:
                break
            # the reference K's steps contract the residual by O(strain) each; when one did not
            # (less than CONTRACTION), or had to be clipped, the rest of this relaxation uses the
            # current tangent (a cluster has turned about a hinge, or eigenstrains are large)
            if not tangent and (clipped or res > CONTRACTION * prev):
                tangent = True
                if res > prev:  # the reference step made it worse: take it back, go on from before it
                    m.u.from_numpy(u_last)
                    continue
            prev = res
            # the fluid Li bodies' stiffness at this iterate (rank one each, fluid.py), in every solve below
            self._fl = m.fluid.stiffness(dof) if m.fluid is not None else NoFluid
            if tangent:
                du, cg_it = self._consistent_step(rhs) if m.softening and m.damage_grows else (None, 0)
                if du is None:
                    du, more = self._tangent_step(rhs)
                    cg_it += more
                self.stats["tangent_steps"] = self.stats.get("tangent_steps", 0) + 1
                limit = TANGENT_MAX_STEP * self.m.lattice.dx
            else:
                du, cg_it = pcg(_Operator(self._fl.operator(self.cache.apply)), self._fl.preconditioner(self.cache.solve), rhs,
                                rtol=1e-3, maxiter=10 * self.refactor_after)
                limit = self.max_step
            self.stats["cg_iterations"] += cg_it
            self.stats["outer_iterations"] += 1
            big = float(np.abs(du).max(initial=0.0))
            clipped = big > limit
            if clipped:  # a near-mechanism (a site left with collinear bonds): damp the step
                du *= limit / big
            u = u_last = m.u.to_numpy()
            upd = np.zeros(F.shape)
            upd[free] = du
            if tangent and m.softening and m.damage_grows:
                upd *= self._line_search(u, upd, free, float(du @ rhs), limit / max(big, 1e-300))
            else:
                m.u.from_numpy((u + upd).astype(m.np_float))
            if not tangent and cg_it > self.refactor_after:
                self.cache.factorise()
        return RelaxResult(max_outer, res, False)

    def _line_search(self, u: np.ndarray, upd: np.ndarray, free: np.ndarray, g0: float, alpha_max: float) -> float:
        """A step length α along a secant step, leaving u + α·upd in the model; returns α.

        Softening bonds make the secant stiffer than the body's tangent, so the plain step falls short of
        equilibrium along its own direction. α is the root of g(α) = updᵀ F(u + α upd), the derivative of
        the incremental energy along the step (g(0) = g0 > 0): secant extrapolation from α = 1 while g stays
        positive, then one regula-falsi step once it is bracketed, at most LINE_SEARCH_EVALS force evaluations,
        α ≤ ``alpha_max`` (the step limit)."""
        m = self.m
        d = upd[free]

        def g(alpha):
            m.u.from_numpy((u + alpha * upd).astype(m.np_float))
            m.compute_forces(with_abs=False)
            return float(d @ m.force.to_numpy().astype(np.float64)[free])

        a0, g_lo = 0.0, g0
        a1 = min(1.0, alpha_max)
        g1 = g(a1)
        for _ in range(LINE_SEARCH_EVALS - 1):
            if g1 <= 0.0 or a1 >= alpha_max:
                break
            nxt = a1 + (a1 - a0) * g1 / (g_lo - g1) if g_lo > g1 else 2.0 * a1
            a0, g_lo = a1, g1
            a1 = min(max(nxt, 1.25 * a1), 4.0 * a1, alpha_max)
            g1 = g(a1)
        if g1 < 0.0 < g_lo:  # bracketed: regula falsi between a0 and a1
            a1 = a0 + (a1 - a0) * g_lo / (g_lo - g1)
        m.u.from_numpy((u + a1 * upd).astype(m.np_float))
        return a1

    def _consistent_step(self, rhs: np.ndarray) -> tuple[np.ndarray | None, int]:
        """The Newton step on the consistent tangent of softening bonds (their loading branch's negative
        slope included), and its CG iterations. First by CG preconditioned with K's factorisation (the
        tangent differs from it on the process zone only); when CG meets negative curvature or does not
        converge, by factorising the tangent itself, or, where it is not positive definite (the state is
        unstable: a process zone is about to localise), K_t + μ·mean(diag) I with the smallest μ of
        LM_SHIFTS that is (a Levenberg–Marquardt step, which turns towards the negative-curvature
        directions); the line search then sets its length. None when no shift helps (the secant step
        is taken instead)."""
        Kt = self.current_tangent(consistent=True)
        fl = self._fl
        op = _Operator(fl.operator(Kt.__matmul__))
        solve = fl.preconditioner(self.cache.solve)
        du, it, positive = pcg(op, solve, rhs, rtol=1e-3, maxiter=TANGENT_CG_MAX, curvature=True)
        if positive and float(np.linalg.norm(rhs - op @ du)) <= 1e-3 * float(np.linalg.norm(rhs)) \
                and float(du @ rhs) > 0.0:
            return du, it
        diag = Kt.diagonal()
        scale = float(diag[diag > 0].mean()) if (diag > 0).any() else 1.0
        for mu in LM_SHIFTS:
            A = Kt if mu == 0.0 else (Kt + sparse.diags(np.full(Kt.shape[0], mu * scale), format="csc")).tocsc()
            solve = positive_definite_solve(A)
            self.stats["tangent_factorisations"] = self.stats.get("tangent_factorisations", 0) + 1
            if solve is not None:
                du = fl.preconditioner(solve)(rhs)
                if np.all(np.isfinite(du)) and float(du @ rhs) > 0.0:
                    return du, it
        return None, it

    def _tangent_step(self, rhs: np.ndarray) -> tuple[np.ndarray, int]:
        """Solve K_t δu = F with the current tangent: CG preconditioned by the reference K's
        factorisation (K_t − K differs by O(strain) on most bonds, so few iterations), else with a
        factorisation of K_t itself."""
        Kt = self.current_tangent()
        fl = self._fl
        op = _Operator(fl.operator(Kt.__matmul__))
        solve = fl.preconditioner(self.cache.solve)
        du, it = pcg(op, solve, rhs, rtol=1e-3, maxiter=TANGENT_CG_MAX)
        if float(np.linalg.norm(rhs - op @ du)) > 1e-3 * float(np.linalg.norm(rhs)):
            exact = self.cache.precondition(Kt)
            self.stats["tangent_factorisations"] = self.stats.get("tangent_factorisations", 0) + 1
            du, it2 = pcg(op, fl.preconditioner(exact.solve), rhs, rtol=1e-3, maxiter=TANGENT_CG_MAX)
            it += it2
        return du, it

    # ------------------------------------------------------------ unsupported modes
