"""Synthetic run folders for the viewer and rendering tests: known fields and broken bonds, no solver."""

import numpy as np
import pytest

from pdssb.io.snapshots import SnapshotWriter
from pdssb.io.timeseries import TimeSeriesWriter
from pdssb.lattice.stencil import Stencil
from pdssb.simulation import COLUMNS

SCENE_2D = '''
title = "synthetic 2D crack"
[domain]
dim = 2
size = ["4 um", "3 um"]
dx = "0.1 um"
thickness = "1 um"
[materials.LAGP]
base = "LAGP"
role = "electrolyte"
[materials.Li]
base = "Li"
role = "lithium"
[[bodies]]
material = "LAGP"
[[bodies]]
material = "Li"
shape = { type = "box", lo = ["0 um", "0 um"], hi = ["0.2 um", "0.2 um"] }
'''

SCENE_3D = SCENE_2D.replace("dim = 2", "dim = 3").replace('["4 um", "3 um"]', '["1.2 um", "1.2 um", "1.2 um"]') \
    .replace('thickness = "1 um"\n', "").replace("synthetic 2D", "synthetic 3D") \
    .replace('["0 um", "0 um"]', '["0 um", "0 um", "0 um"]').replace('["0.2 um", "0.2 um"]', '["0.2 um", "0.2 um", "0.2 um"]')


def bond_bits(shape, mat, cuts):
    """Bond words (interior order) of the scene's stencil: every bond between two solid sites is
    intact except those crossing a cut. A cut (axis, position, lo, hi), in site-index coordinates,
    is the plane x[axis] = position restricted to lo ≤ x < hi on the other axes."""
    dim = len(shape)
    st = Stencil(dim, 3.0)
    coords = np.stack(np.unravel_index(np.arange(int(np.prod(shape))), shape), axis=1)
    solid = mat.ravel() != 0
    bits = np.zeros((len(coords), st.words), dtype=np.uint32)
    for k, off in enumerate(st.offsets):
        nb = coords + off
        ok = ((nb >= 0) & (nb < np.array(shape))).all(axis=1)
        j = np.ravel_multi_index(tuple(np.where(ok[:, None], nb, 0).T), shape)
        intact = ok & solid & solid[j]
        for axis, pos, lo, hi in cuts:
            a, b = coords[:, axis], nb[:, axis]
            crosses = (a - pos) * (b - pos) < 0
            t = (pos - a) / np.where(b != a, b - a, 1)
            at = coords + t[:, None] * off
            others = [c for c in range(dim) if c != axis]
            inside = np.all([(at[:, c] >= lo[c]) & (at[:, c] < hi[c]) for c in others], axis=0)
            intact &= ~(crosses & inside)
        bits[intact, k >> 5] |= np.uint32(1) << np.uint32(k & 31)
    return bits


def write_run(folder, shape, dx, damage_box, steps=3, extra=None, cuts=None, li_filled=None):
    """A run folder whose damage is 1 inside ``damage_box`` (slices per axis), growing over ``steps``
    snapshots; von Mises = 10 MPa × x/µm + 1 MPa, material 1 (electrolyte) except a Li corner
    (2 sites a side, Li in the scene too). With ``cuts`` the snapshots carry bond bits (see
    :func:`bond_bits`); ``li_filled`` (a slice tuple) turns electrolyte sites into Li in the
    snapshots only: Li that followed a crack."""
    folder.mkdir(parents=True, exist_ok=True)
    dim = len(shape)
    (folder / "scene.toml").write_text(SCENE_2D if dim == 2 else SCENE_3D)
    axes = [(np.arange(n) + 0.5) * dx for n in shape]
    pts = np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)
    n = len(pts)
    writer = SnapshotWriter(folder)
    with TimeSeriesWriter(folder / "timeseries.csv", COLUMNS) as ts:
        for k in range(1, steps + 1):
            dmg = np.zeros(shape)
            box = tuple(slice(s.start, s.start + max(1, (s.stop - s.start) * k // steps)) if a == 0 else s
                        for a, s in enumerate(damage_box))
            dmg[box] = 1.0
            mat = np.ones(shape, dtype=np.int32)
            mat[(slice(0, 2),) * dim] = 2  # a Li corner
            if li_filled is not None:
                mat[li_filled] = 2
            vm = (10.0 * pts[:, 0] * 1e6 + 1.0) * 1e6
            fields = dict(displacement_m=np.zeros((n, dim)), damage=dmg.ravel(), von_mises_Pa=vm,
                          hydrostatic_Pa=-0.5 * vm, stress_Pa=np.zeros((n, 3 if dim == 2 else 6)),
                          material=mat.ravel())
            if cuts is not None:
                fields["bond_bits"] = bond_bits(shape, mat, cuts)
            fields.update(extra or {})
            writer.write(k, float(k), pts, fields)
            ts.append({c: 0.0 for c in COLUMNS} | dict(step=k, time_s=float(k), load=k / steps,
                                                     von_mises_max_MPa=float(vm.max() / 1e6),
                                                     bonds_broken_total=100 * k, damage_max=1.0))
    return folder


@pytest.fixture(scope="session")
def run2d(tmp_path_factory):
    # 40 x 30 sites; damage in x ∈ [4, 14), y ∈ [3, 9): the lower-left part
    return write_run(tmp_path_factory.mktemp("viz") / "run2d", (40, 30), 0.1e-6, (slice(4, 14), slice(3, 9)))


@pytest.fixture(scope="session")
def run3d(tmp_path_factory):
    # 12^3 sites; damage in the corner block x high, y low, z high (nearest the 'iso' camera)
    return write_run(tmp_path_factory.mktemp("viz") / "run3d", (12, 12, 12), 0.1e-6,
                     (slice(7, 12), slice(0, 5), slice(7, 12)), steps=2)


@pytest.fixture(scope="session")
def crack2d(tmp_path_factory):
    """40 x 30 sites (0.1 µm) with two cracks: an open one, the plane x = 19.5 for y ∈ [9.5, 19.5)
    (between columns 19 and 20, rows 10..19), and one along y = 1.5 for x ∈ [-0.5, 7.5) whose
    sites (2..5, 1) Li has filled (the Li corner is sites 0..1 x 0..1)."""
    cuts = [(0, 19.5, (0, 9.5), (0, 19.5)), (1, 1.5, (-0.5, 0), (7.5, 0))]
    return write_run(tmp_path_factory.mktemp("viz") / "crack2d", (40, 30), 0.1e-6, (slice(17, 23), slice(8, 21)),
                     steps=1, cuts=cuts, li_filled=(slice(2, 6), slice(1, 2)))


@pytest.fixture(scope="session")
def crack3d(tmp_path_factory):
    """12^3 sites with an open crack: the plane z = 7.5 for x, y ∈ [-0.5, 11.5) (it cuts the body through)."""
    cuts = [(2, 7.5, (-0.5, -0.5, 0), (11.5, 11.5, 0))]
    return write_run(tmp_path_factory.mktemp("viz") / "crack3d", (12, 12, 12), 0.1e-6,
                     (slice(0, 12), slice(0, 12), slice(7, 9)), steps=1, cuts=cuts)


_GGUI: dict = {}


def ggui_problem() -> str | None:
    """Why GGUI cannot start in this process (no Vulkan loader or driver), or None."""
    if "problem" not in _GGUI:
        from pdssb.viz.frame import GGUIRenderer, VulkanUnavailable

        try:
            GGUIRenderer((64, 64))
            _GGUI["problem"] = None
        except VulkanUnavailable as e:
            _GGUI["problem"] = e.reason
    return _GGUI["problem"]


@pytest.fixture(params=["software", "ggui"])
def backend(request):
    """Both renderers: the software one always; GGUI where Vulkan starts (skipped, with the reason,
    where there is no driver: a missing driver is not a missing package)."""
    if request.param == "ggui" and (problem := ggui_problem()):
        pytest.skip(f"GGUI cannot start here: {problem}")
    return request.param
