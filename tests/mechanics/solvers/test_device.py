"""The device Newton–Krylov solver (solvers/device.py) against the host Newton solver, on the CPU backend."""

import numpy as np

from pdssb.verification import notch_crack_path


def test_device_newton_solver_matches_the_host_solver_on_an_elastic_bar():
    """Closed form: the equilibrium of a linear elastic problem is unique, so two solvers converged to
    ‖F‖ ≤ 1e-10 ‖F_abs‖ give the same displacements (a clamped bar sheared and stretched at its right end),
    and K v of the matrix-free kernel equals the host-assembled K v (assembly.py) to round-off."""
    from pdssb.mechanics.solvers import device

    from ..bars import elastic_bar

    dx = 1e-6
    u, models = {}, {}
    for method in ("direct", "device"):
        lat, st, model = elastic_bar((24, 8), dx)
        x = lat.positions()
        fix = np.zeros(lat.n_sites, np.int32)
        right = x[:, 0] > 20 * dx
        fix[(x[:, 0] < 3 * dx) | right] = 3
        u_bc = np.zeros((lat.n_sites, 2))
        u_bc[right] = [2e-3 * dx, 1e-3 * dx]
        model.set_boundary(fix, u_bc, np.zeros_like(u_bc), np.zeros_like(u_bc))
        model.use_solver(method, "lu")
        assert model.relax(1e-10, 100_000).converged
        u[method], models[method] = model.field("u"), model
    assert model.solver.stats["adr_fallbacks"] == 0
    assert np.abs(u["device"] - u["direct"]).max() <= 1e-8 * np.abs(u["direct"]).max()
    host, dev = models["direct"].solver, models["device"].solver
    m = models["device"]
    v = np.random.default_rng(0).standard_normal((lat.n_sites, 2)) * dx
    dof = lat.gather(host.assembly.dof)
    free = dof >= 0
    vf = np.zeros(host.cache.Kb.shape[0])
    vf[dof[free]] = v[free]
    dev.x.from_numpy(lat.scatter(np.where(free, v, 0.0)))
    device.jacobi(*dev._stiffness_args(), dev.dinv, 2)
    device.apply_stiffness(dev.x, *dev._stiffness_args(), dev.dinv, dev.q, 2)
    Kv = lat.gather(dev.q.to_numpy())[free]
    expect = (host.cache.Kb @ vf)[dof[free]]
    assert np.linalg.norm(Kv - expect) <= 1e-8 * np.linalg.norm(expect)  # + the 1e-9 diagonal floor


def test_device_newton_solver_breaks_the_same_bonds_as_the_host_solver():
    """Quasi-static crack growth from a notch towards a hole (verification.notch_crack_path, 20 × 20 sites,
    2 load steps): the equilibrium of each cascade round is unique to the tolerance, so the
    most-stretched-first order breaks the same bonds whichever solver reaches it."""
    host = notch_crack_path(2, shape=(20, 20), break_mode="most_stretched", method="direct")
    dev = notch_crack_path(2, shape=(20, 20), break_mode="most_stretched", method="device")
    assert host["broken"] > 100  # a crack grew
    assert np.array_equal(dev["bits"], host["bits"])
    assert dev["broken"] == host["broken"]
    assert dev["solver_stats"]["outer_iterations"] > 0 and dev["solver_stats"]["cg_iterations"] > 0
