"""VTU/NPZ snapshots and the PVD collection written by the run loop."""

import xml.etree.ElementTree as ET

import meshio
import numpy as np
import pytest

from pdssb.io.snapshots import PvdIndex, SnapshotWriter, write_snapshot_npz, write_vtu

RNG = np.random.default_rng(42)


def test_write_vtu_2d_pads_points_and_vectors(tmp_path):
    points = RNG.random((10, 2))
    displacement = RNG.normal(size=(10, 2))
    damage = RNG.random(10)
    broken = damage > 0.5
    path = write_vtu(
        tmp_path / "s.vtu",
        points,
        {"u": displacement, "damage": damage, "broken": broken, "id": np.arange(10)},
    )
    mesh = meshio.read(path)
    np.testing.assert_array_equal(mesh.points[:, :2], points)
    np.testing.assert_array_equal(mesh.points[:, 2], 0.0)
    assert mesh.point_data["u"].shape == (10, 3)
    np.testing.assert_array_equal(mesh.point_data["u"][:, :2], displacement)
    np.testing.assert_array_equal(mesh.point_data["u"][:, 2], 0.0)
    np.testing.assert_array_equal(mesh.point_data["damage"], damage)
    np.testing.assert_array_equal(mesh.point_data["broken"], broken.astype(np.uint8))
    np.testing.assert_array_equal(mesh.point_data["id"], np.arange(10))
    assert [block.type for block in mesh.cells] == ["vertex"]
    np.testing.assert_array_equal(mesh.cells[0].data.ravel(), np.arange(10))
    text = path.read_text()
    assert 'compressor="vtkZLibDataCompressor"' in text and 'format="binary"' in text
    assert [p.name for p in tmp_path.iterdir()] == ["s.vtu"]


def test_write_vtu_3d_with_field_data(tmp_path):
    points = RNG.random((6, 3))
    stress = RNG.normal(size=(6, 6))
    path = write_vtu(
        tmp_path / "s3.vtu",
        points,
        {"stress": stress},
        field_data={"time": 0.1 + 0.2, "step": 7, "load": np.array([1.0, -2.5])},
    )
    mesh = meshio.read(path)
    np.testing.assert_array_equal(mesh.points, points)
    np.testing.assert_array_equal(mesh.point_data["stress"], stress)
    assert mesh.field_data["time"].ravel().tolist() == [0.1 + 0.2]  # exact
    assert mesh.field_data["step"].ravel().tolist() == [7]
    np.testing.assert_array_equal(mesh.field_data["load"].ravel(), [1.0, -2.5])
    ET.parse(path)  # still well-formed XML


@pytest.mark.parametrize(
    "points, data, error",
    [
        (np.zeros((4, 4)), {}, ValueError),
        (np.zeros((4, 2)), {"d": np.zeros(3)}, ValueError),
        (np.zeros((4, 2)), {'bad"name': np.zeros(4)}, ValueError),
        (np.zeros((4, 2)), {"s": np.array(["a"] * 4)}, TypeError),
    ],
)
def test_write_vtu_rejects_bad_input(tmp_path, points, data, error):
    with pytest.raises(error):
        write_vtu(tmp_path / "bad.vtu", points, data)
    assert list(tmp_path.iterdir()) == []


def _datasets(pvd_path):
    root = ET.parse(pvd_path).getroot()
    assert root.tag == "VTKFile" and root.get("type") == "Collection"
    return [(float(d.get("timestep")), d.get("file")) for d in root.iter("DataSet")]


def test_pvd_index_add_reopen_truncate(tmp_path):
    pvd_path = tmp_path / "run.pvd"
    index = PvdIndex(pvd_path)
    times = [0.0, 0.1, 0.25, 1.0 / 3.0]
    for k, t in enumerate(times):
        index.add(t, tmp_path / "snapshots" / f"s_{k}.vtu")
    expected = [(t, f"snapshots/s_{k}.vtu") for k, t in enumerate(times)]
    assert _datasets(pvd_path) == expected  # one per add, exact times, relative paths
    assert index.entries == expected

    reopened = PvdIndex(pvd_path)
    assert reopened.entries == expected
    reopened.truncate_after(0.1)
    assert _datasets(pvd_path) == expected[:2]
    reopened.add(0.2, tmp_path / "snapshots" / "s_new.vtu")
    assert _datasets(pvd_path) == expected[:2] + [(0.2, "snapshots/s_new.vtu")]

    with pytest.raises(ValueError, match="truncate_after"):
        reopened.add(0.15, tmp_path / "late.vtu")
    reopened.add(0.2, tmp_path / "snapshots" / "s_again.vtu")  # same time: replaced
    assert _datasets(pvd_path)[-1] == (0.2, "snapshots/s_again.vtu")
    assert len(_datasets(pvd_path)) == 3


@pytest.mark.parametrize(
    "content",
    [
        "<VTKFile",
        '<VTKFile type="UnstructuredGrid"><Collection/></VTKFile>',
        '<VTKFile type="Collection"><Collection><DataSet file="a.vtu"/></Collection></VTKFile>',
        '<VTKFile type="Collection"><Collection>'
        '<DataSet timestep="x" file="a.vtu"/></Collection></VTKFile>',
    ],
)
def test_pvd_index_refuses_malformed_file(tmp_path, content):
    pvd_path = tmp_path / "bad.pvd"
    pvd_path.write_text(content)
    with pytest.raises(ValueError):
        PvdIndex(pvd_path)


def test_snapshot_npz_round_trip(tmp_path):
    arrays = {"points": RNG.random((5, 3)), "damage": RNG.random(5), "time": np.float64(0.5)}
    path = write_snapshot_npz(tmp_path / "s.npz", **arrays)
    with np.load(path) as data:
        assert set(data.files) == set(arrays)
        for key, value in arrays.items():
            np.testing.assert_array_equal(data[key], value)


def test_snapshot_writer(tmp_path):
    writer = SnapshotWriter(tmp_path)
    points = RNG.random((8, 2))
    for step, time in [(0, 0.0), (50, 0.5)]:
        u = RNG.normal(size=(8, 2))
        paths = writer.write(step, time, points, {"u": u}, field_data={"time": time})
        assert paths.vtu == tmp_path / "snapshots" / f"snapshots_{step:06d}.vtu"
        assert paths.npz == tmp_path / "snapshots" / f"snapshots_{step:06d}.npz"
        mesh = meshio.read(paths.vtu)
        np.testing.assert_array_equal(mesh.point_data["u"][:, :2], u)
        with np.load(paths.npz) as data:
            np.testing.assert_array_equal(data["points"], points)
            np.testing.assert_array_equal(data["u"], u)  # unpadded
            assert float(data["time"]) == time and int(data["step"]) == step
    assert _datasets(tmp_path / "snapshots.pvd") == [
        (0.0, "snapshots/snapshots_000000.vtu"),
        (0.5, "snapshots/snapshots_000050.vtu"),
    ]
    resumed = SnapshotWriter(tmp_path)
    assert len(resumed.pvd.entries) == 2
    with pytest.raises(ValueError, match="reserved"):
        resumed.write(60, 0.6, points, {"time": np.zeros(8)})


def test_bond_bits_go_to_the_npz_only(tmp_path):
    """Bond words (two per site here) would be padded like a 2D vector in the VTU and mean nothing
    in ParaView: NPZ_ONLY keeps them out of it, exactly as written in the NPZ."""
    bits = RNG.integers(0, 2**32, size=(8, 2), dtype=np.uint32)
    paths = SnapshotWriter(tmp_path).write(0, 0.0, RNG.random((8, 2)), {"damage": RNG.random(8), "bond_bits": bits})
    assert set(meshio.read(paths.vtu).point_data) == {"damage"}
    with np.load(paths.npz) as data:
        assert data["bond_bits"].dtype == np.uint32
        np.testing.assert_array_equal(data["bond_bits"], bits)
