"""Synthetic run folders for the viewer and rendering tests: known fields, no solver needed."""

import numpy as np
import pytest

from pdssb.io.snapshots import SnapshotWriter
from pdssb.io.timeseries import TimeSeriesWriter
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
'''

SCENE_3D = SCENE_2D.replace("dim = 2", "dim = 3").replace('["4 um", "3 um"]', '["1.2 um", "1.2 um", "1.2 um"]') \
    .replace('thickness = "1 um"\n', "").replace("synthetic 2D", "synthetic 3D")


def write_run(folder, shape, dx, damage_box, steps=3, extra=None):
    """A run folder whose damage is 1 inside ``damage_box`` (slices per axis), growing over ``steps``
    snapshots; von Mises = 10 MPa × x/µm + 1 MPa, material 1 (electrolyte) except a Li corner."""
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
            vm = (10.0 * pts[:, 0] * 1e6 + 1.0) * 1e6
            fields = dict(displacement_m=np.zeros((n, dim)), damage=dmg.ravel(), von_mises_Pa=vm,
                          hydrostatic_Pa=-0.5 * vm, stress_Pa=np.zeros((n, 3 if dim == 2 else 6)),
                          material=mat.ravel())
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
