"""The site-blocked CPU force kernel (mechanics/blocked.py) against the per-site kernel (pmb.bond_forces).

Every case builds a body, puts it in a random state (displacements of ~2 % Δx, ~10 % of the
directed bonds broken at random, body forces, a load factor ≠ 1, random prescribed components,
optionally random eigenstrains), and evaluates force and fabs once with each kernel, forced by
``MechanicsModel.force_path``. f64 agrees to 1e-12 and f32 to 1e-5, relative to the largest
|force| (resp. fabs) of the body; the two kernels differ only in round-off (the lean blocks use
c β V (1/l0 − 1/|y|) y, the per-site kernel c β V (|y|/l0 − 1) y/|y|).

The f32 cases run in a subprocess: precision is Taichi's default float, fixed per runtime, and the
test session's runtime is f64.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from pdssb.lattice.grid import Lattice
from pdssb.lattice.stencil import Stencil
from pdssb.mechanics import blocked, pmb
from pdssb.mechanics.bond_table import BondTable
from pdssb.mechanics.model import MechanicsModel

C1 = 1.0e20
DX = 1.0e-3


def make_model(shape, setting="3d", precision="f64", surface_correction=False, two_mats=False,
               horizon=3.015, partial_volume="none"):
    """A body on ``shape`` with one material (or two, split at mid-x) of micromoduli C1 and 2·C1."""
    dim = len(shape)
    st = Stencil(dim, horizon, partial_volume=partial_volume, isotropic=False)
    lat = Lattice(tuple(shape), DX, halo=st.reach)
    c = np.array([[0.0, 0.0, 0.0], [0.0, C1, 0.0], [0.0, 0.0, 2 * C1]])
    c[1, 2] = c[2, 1] = pmb.series(C1, 2 * C1)
    table = BondTable(c=c, s0=np.zeros((3, 3)), rho=np.array([0.0, 1e3, 1e3]), effective_youngs=np.zeros(3))
    ids = np.ones(lat.n_sites, np.int32)
    if two_mats:
        ids[lat.positions()[:, 0] > 0.5 * shape[0] * DX] = 2
    thickness = None if dim == 3 else DX
    return MechanicsModel(lat, st, ids, table, setting, thickness, precision, surface_correction=surface_correction)


def randomise(model, rng, with_eps=False):
    """Random displacements, broken bonds, body forces, load, prescribed components (and eigenstrains)."""
    ns, d = model.lattice.n_sites, model.dim
    model.set_field("u", rng.normal(0.0, 0.02 * DX, size=(ns, d)))
    if with_eps:
        eps = rng.uniform(-0.01, 0.03, size=ns)
        eps[rng.random(ns) < 0.3] = 0.0  # zero on some sites: both branches of ε̄ ≠ 0
        model.set_field("eps", eps)
    bits = model.bits.to_numpy()
    drop = rng.random(bits.shape + (32,)) < 0.1
    clear = (drop.astype(np.uint32) << np.arange(32, dtype=np.uint32)).sum(-1, dtype=np.uint64).astype(np.uint32)
    model.bits.from_numpy(bits & ~clear)
    fix = (rng.random(ns) < 0.05) * rng.integers(1, 2**d, ns)
    model.set_boundary(fix.astype(np.int32), np.zeros((ns, d)), np.zeros((ns, d)), rng.normal(0, 1e6, size=(ns, d)))
    model.load = 0.7


def both_paths(model):
    """(force, fabs) of the per-site and of the blocked kernel, padded arrays."""
    out = []
    for path in ("site", "blocked"):
        model.force_path = path
        model.force.fill(np.nan)
        model.fabs.fill(np.nan)
        model.compute_forces(with_abs=True)
        out.append((model.force.to_numpy(), model.fabs.to_numpy()))
    model.force_path = "auto"
    return out


def rel_errors(model):
    (f0, a0), (f1, a1) = both_paths(model)
    assert np.isfinite(f1).all() and np.isfinite(a1).all()
    ef = np.linalg.norm(f1 - f0, axis=1).max() / np.linalg.norm(f0, axis=1).max()
    ea = np.abs(a1 - a0).max() / np.abs(a0).max()
    return float(ef), float(ea)


def block_counts(model):
    tab = model._blocked.btab.to_numpy()
    return int((tab > 0).sum()), int((tab == 0).sum()), int((tab < 0).sum())


CASES = {  # name: (shape, setting, surface correction, two materials, eigenstrain)
    "3d-lean": ((14, 13, 12), "3d", False, False, False),
    "3d-eigenstrain": ((14, 13, 12), "3d", False, False, True),
    "3d-surface-2mat": ((28, 14, 28), "3d", True, True, True),
    "2d-strain": ((40, 33), "strain", True, True, False),
    "2d-stress": ((37, 30), "stress", False, False, True),
}


def run_cases(precision, seed=7):
    rng = np.random.default_rng(seed)
    res = {}
    for name, (shape, setting, sc, two, eps) in CASES.items():
        model = make_model(shape, setting, precision, sc, two)
        randomise(model, rng, eps)
        ef, ea = rel_errors(model)
        res[name] = (ef, ea, block_counts(model))
    return res


def test_blocked_matches_site_f64():
    """f64: blocked = per-site force and fabs to 1e-12 on lean, eigenstrain, surface-corrected two-material
    (mixed blocks) 3D bodies and plane-strain/plane-stress 2D bodies, each with lean and mixed/void blocks."""
    for name, (ef, ea, (lean, void, mixed)) in run_cases("f64").items():
        assert lean > 0 and void > 0, name
        if name in ("3d-surface-2mat", "2d-strain"):
            assert mixed > 0, name
        assert ef < 1e-12 and ea < 1e-12, (name, ef, ea)


F32_SCRIPT = """
import json, sys
sys.path.insert(0, {root!r})
from pdssb import backend
backend.init("cpu", "f32")
from tests.mechanics.test_blocked_forces import run_cases
print(json.dumps(run_cases("f32")))
"""


def test_blocked_matches_site_f32():
    """f32 (a fresh f32 runtime in a subprocess): blocked = per-site force and fabs to 1e-5 on the same cases."""
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    p = subprocess.run([sys.executable, "-c", F32_SCRIPT.format(root=root)], capture_output=True, text=True,
                       timeout=300, cwd=root)
    assert p.returncode == 0, p.stderr[-3000:]
    res = json.loads(p.stdout.strip().splitlines()[-1])
    assert set(res) == set(CASES)
    for name, (ef, ea, _) in res.items():
        assert ef < 1e-5 and ea < 1e-5, (name, ef, ea)


def test_lattice_end_not_multiple_of_block():
    """A padded size that is not a multiple of S: the last block straddles the array end (and blocks whose
    stencil would leave the array are not lean); forces still match, and every site is written."""
    model = make_model((9, 7), "strain", horizon=2.0)  # padded 13 × 11 = 143 = 17·8 + 7
    n = model.lattice.n_padded
    assert n % blocked.S_BLOCK != 0
    randomise(model, np.random.default_rng(3), with_eps=True)
    ef, ea = rel_errors(model)  # both_paths fills force/fabs with NaN first: a site not written would show
    assert ef < 1e-12 and ea < 1e-12
    tab = model._blocked.btab.to_numpy()
    assert tab.shape[0] == (n + blocked.S_BLOCK - 1) // blocked.S_BLOCK
    assert (tab > 0).any()


def test_prepare_rebuilds_every_call():
    """No stale state: the SoA u, transposed bits, block table and eigenstrain flag follow every change of
    u, bits, materials and eps between force calls (checked against numpy, and forces against per-site)."""
    model = make_model((16, 12, 11), "3d", surface_correction=False)
    rng = np.random.default_rng(11)
    lin = model.lin.to_numpy()
    S = blocked.S_BLOCK
    for step in range(3):
        randomise(model, rng, with_eps=step == 1)
        if step == 2:  # a second material appears in a corner (as Li filling would), flags refreshed
            mat = model.field("mat") & pmb.ID_MASK
            mat[: model.lattice.n_sites // 5] = 2
            model.set_field("mat", mat)
            model.refresh_material_flags()
            model.set_field("eps", np.zeros(model.lattice.n_sites))
        model.force_path = "blocked"
        model.compute_forces()
        B = model._blocked
        n = model.lattice.n_padded
        u, bits, mat = model.u.to_numpy(), model.bits.to_numpy(), model.mat.to_numpy()
        assert np.array_equal(B.uT.to_numpy(), u.T.ravel())
        assert np.array_equal(B.bitsT.to_numpy(), bits.T.ravel())
        assert B.flag.to_numpy()[0] == int((model.eps.to_numpy() != 0).any())
        # the block table, from its definition
        nb = (n + S - 1) // S
        w = np.zeros(nb * S, np.int64)
        w[:n] = mat
        w = w.reshape(nb, S)
        ids = w & pmb.ID_MASK
        nonvoid = ids != 0
        first = np.where(nonvoid, ids, 1 << 20).min(1)
        lean = np.all(~nonvoid | ((ids == first[:, None]) & ((w & pmb.MIXED_FLAG) == 0)), 1)
        start = np.arange(nb) * S
        inside = (start + lin.min() >= 0) & (start + S - 1 + lin.max() < n)
        expect = np.where(nonvoid.any(1), np.where(lean & inside, first, -1), 0)
        assert np.array_equal(B.btab.to_numpy(), expect)
        ef, ea = rel_errors(model)
        assert ef < 1e-12 and ea < 1e-12


def test_auto_path_and_guard():
    """"auto" takes the blocked kernel on the CPU backend (the test session's) and allocates its arrays with
    the model; "site" forces the per-site kernel; the 2^30 index guard; an unknown path is refused."""
    model = make_model((6, 6), "strain", horizon=2.0)
    assert model.force_kernel() == "blocked"
    n, w = model.lattice.n_padded, model.stencil.words
    assert model._blocked is not None  # allocated with the model: part of its memory from the start
    assert model._blocked.nbytes == n * (2 * 8 + 4 * w) + 4 * ((n + 7) // 8) + 4
    model.force_path = "site"
    assert model.force_kernel() == "site"
    assert blocked.eligible(2**28 - 1, 3, 4) and not blocked.eligible(2**28, 3, 4)
    assert not blocked.eligible(2**28, 2, 4) and blocked.eligible(2**28, 2, 3)
    model.force_path = "bogus"
    with pytest.raises(ValueError):
        model.compute_forces()
