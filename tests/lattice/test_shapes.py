"""Inside-tests, bounds and feature sizes of the analytic shapes and of STL meshes."""

import math

import numpy as np
import pytest
import trimesh

from pdssb.lattice import shapes
from pdssb.lattice.shapes import (
    Box,
    Ellipsoid,
    GeometryError,
    HalfSpace,
    Polygon,
    Shape,
    Sphere,
    StlMesh,
)

DX = 1e-6  # 1 um lattice spacing


def lattice(lo, hi, dx=DX):
    """Sites i * dx covering [lo, hi] in every axis, as an (N, dim) array."""
    axes = [np.arange(round(a / dx), round(b / dx) + 1) * dx for a, b in zip(lo, hi)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(axes))


# --------------------------------------------------------------------------- Box


def test_box_points_2d_and_3d():
    box2 = Box((0.0, 0.0), (4e-6, 2e-6))
    pts2 = [[1e-6, 1e-6], [0.0, 0.0], [4e-6, 2e-6], [4e-6, 1e-6]]  # inside, incl. corners and edges
    pts2 += [[4.1e-6, 1e-6], [-1e-9, 1e-6], [2e-6, 2.01e-6]]  # outside
    assert box2.inside(pts2).tolist() == [True, True, True, True, False, False, False]
    box3 = Box((1e-6, 0.0, -1e-6), (2e-6, 1e-6, 1e-6))
    pts3 = [[1.5e-6, 0.5e-6, 0.0], [1e-6, 0.0, -1e-6], [2e-6, 1e-6, 1e-6]]  # centre and two corners
    pts3 += [[2.5e-6, 0.5e-6, 0.0], [1.5e-6, 0.5e-6, 1.2e-6]]
    assert box3.inside(pts3).tolist() == [True, True, True, False, False]
    assert box2.dim == 2 and box3.dim == 3


def test_box_lattice_count_is_inclusive_and_matches_volume():
    box = Box((0.0, 0.0, 0.0), (10 * DX, 6 * DX, 4 * DX))
    sites = lattice((-2 * DX,) * 3, (12 * DX,) * 3)
    assert box.inside(sites).sum() == 11 * 7 * 5  # sites on all faces are inside
    centres = sites + 0.5 * DX
    assert box.inside(centres).sum() * DX**3 == pytest.approx(10 * 6 * 4 * DX**3)


def test_box_face_sites_survive_rounding():
    # 0.1 * 3 != 0.3 in floating point; the face site must still be inside.
    box = Box((0.0, 0.0), (0.3e-6, 0.3e-6))
    assert box.inside([[0.1e-6 * 3, 0.1e-6 * 3]]).all()


def test_box_bounds_and_feature():
    box = Box((0.0, 1e-6), (3e-6, 3e-6))
    lo, hi = box.bounds()
    np.testing.assert_array_equal(lo, [0.0, 1e-6])
    np.testing.assert_array_equal(hi, [3e-6, 3e-6])
    assert box.min_feature_size() == pytest.approx(2e-6)


@pytest.mark.parametrize(
    "lo, hi",
    [((0, 0), (1, 0)), ((0, 0), (-1, 1)), ((0, 0), (1, 1, 1)), ((0,), (1,)), ((0, 0), (np.nan, 1))],
)
def test_box_rejects_bad_corners(lo, hi):
    with pytest.raises(ValueError):
        Box(lo, hi)


def test_points_must_match_dimension():
    with pytest.raises(ValueError, match=r"shape \(N, 3\)"):
        Box((0, 0, 0), (1, 1, 1)).inside(np.zeros((4, 2)))
    with pytest.raises(ValueError):
        Sphere((0, 0), 1.0).inside(np.zeros(2))


# ------------------------------------------------------------------------ Sphere


def test_sphere_points_and_boundary():
    circle = Sphere((1e-6, 1e-6), 2e-6)
    assert circle.inside([[1e-6, 1e-6], [3e-6, 1e-6], [1e-6, -1e-6], [3.001e-6, 1e-6], [2.5e-6, 2.5e-6]]).tolist() == [
        True,
        True,
        True,
        False,
        False,
    ]
    ball = Sphere((0.0, 0.0, 0.0), 1e-6)
    pts = [[0, 0, 1e-6], [0.5e-6, 0.5e-6, 0.5e-6], [0.6e-6, 0.6e-6, 0.6e-6]]
    assert ball.inside(pts).tolist() == [True, True, False]


@pytest.mark.parametrize("dim", [2, 3])
def test_sphere_lattice_count_matches_measure(dim):
    r = 10 * DX
    sphere = Sphere((0.0,) * dim, r)
    count = sphere.inside(lattice((-11 * DX,) * dim, (11 * DX,) * dim)).sum()
    exact = math.pi * r**2 if dim == 2 else 4.0 / 3.0 * math.pi * r**3
    assert count * DX**dim == pytest.approx(exact, rel=0.03)


def test_sphere_bounds_feature_and_validation():
    s = Sphere((1e-6, 2e-6, 3e-6), 0.5e-6)
    lo, hi = s.bounds()
    np.testing.assert_allclose(lo, [0.5e-6, 1.5e-6, 2.5e-6])
    np.testing.assert_allclose(hi, [1.5e-6, 2.5e-6, 3.5e-6])
    assert s.min_feature_size() == 0.5e-6
    for radius in (0.0, -1.0, math.inf):
        with pytest.raises(ValueError, match="radius"):
            Sphere((0, 0), radius)


# --------------------------------------------------------------------- Ellipsoid


def test_ellipsoid_points():
    ell = Ellipsoid((0.0, 0.0), (3e-6, 1e-6))
    assert ell.inside([[3e-6, 0], [0, 1e-6], [0, 1.01e-6], [2e-6, 0.7e-6], [2e-6, 0.8e-6]]).tolist() == [
        True,
        True,
        False,
        True,
        False,
    ]
    ell3 = Ellipsoid((1e-6, 1e-6, 1e-6), (1e-6, 2e-6, 3e-6))
    assert ell3.inside([[1e-6, 1e-6, 4e-6], [1e-6, 3.1e-6, 1e-6], [2e-6, 1e-6, 1e-6]]).tolist() == [True, False, True]


@pytest.mark.parametrize("dim", [2, 3])
def test_ellipsoid_lattice_count_matches_measure(dim):
    axes = (12 * DX, 8 * DX, 10 * DX)[:dim]
    ell = Ellipsoid((0.0,) * dim, axes)
    count = ell.inside(lattice((-13 * DX,) * dim, (13 * DX,) * dim)).sum()
    exact = math.pi * np.prod(axes) * (1.0 if dim == 2 else 4.0 / 3.0)
    assert count * DX**dim == pytest.approx(exact, rel=0.03)
    assert ell.min_feature_size() == 8 * DX
    lo, hi = ell.bounds()
    np.testing.assert_allclose(hi, axes)
    np.testing.assert_allclose(lo, -np.array(axes))


def test_ellipsoid_rejects_bad_axes():
    with pytest.raises(ValueError):
        Ellipsoid((0, 0), (1, 0))
    with pytest.raises(ValueError, match="same dimension"):
        Ellipsoid((0, 0), (1, 1, 1))


# --------------------------------------------------------------------- HalfSpace


def test_half_space_normalises_and_tests_side():
    hs = HalfSpace((0.0, 1e-6), (0.0, 5.0))
    assert hs.normal == (0.0, 1.0)
    assert hs.inside([[3e-6, 0.0], [3e-6, 1e-6], [0.0, 1.1e-6], [-5e-6, -5e-6]]).tolist() == [True, True, False, True]
    lo, hi = hs.bounds()
    assert np.isneginf(lo).all()
    assert hi.tolist() == [math.inf, 1e-6]
    assert hs.min_feature_size() == math.inf


def test_oblique_half_space_3d():
    hs = HalfSpace((1e-6, 1e-6, 1e-6), (1.0, 1.0, 1.0))
    assert math.isclose(np.linalg.norm(hs.normal), 1.0)
    pts = [[0, 0, 0], [1e-6, 1e-6, 1e-6], [3e-6, 0, 0], [3e-6, 1e-9, 0], [2e-6, 2e-6, 0]]
    assert hs.inside(pts).tolist() == [True, True, True, False, False]
    lo, hi = hs.bounds()
    assert np.isneginf(lo).all() and np.isposinf(hi).all()
    # Flipping the normal keeps the plane and swaps the sides.
    flipped = HalfSpace((1e-6, 1e-6, 1e-6), (-2.0, -2.0, -2.0))
    assert flipped.inside(pts).tolist() == [False, True, True, True, True]


def test_half_space_rejects_zero_normal():
    with pytest.raises(ValueError, match="non-zero"):
        HalfSpace((0, 0, 0), (0, 0, 0))


# ----------------------------------------------------------------------- Polygon

L_SHAPE = [(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)]  # counter-clockwise, units of 10 um


@pytest.mark.parametrize("reverse", [False, True], ids=["ccw", "cw"])
def test_concave_polygon_both_orientations(reverse):
    unit = 10 * DX
    verts = np.array(L_SHAPE[::-1] if reverse else L_SHAPE, dtype=float) * unit
    poly = Polygon(verts)
    assert poly.dim == 2
    inside = [(0.5, 0.5), (1.5, 0.5), (0.5, 1.5), (0, 0), (2, 0), (1, 1), (1.5, 1), (1, 1.5), (0, 1), (2, 0.5)]
    outside = [(1.5, 1.5), (1.01, 1.01), (2.01, 0.5), (-0.01, 1), (0.5, 2.01), (3, 3)]
    assert poly.inside(np.array(inside) * unit).all()
    assert not poly.inside(np.array(outside) * unit).any()
    # Pick's theorem: sites = area + boundary sites / 2 + 1, all boundary sites counted.
    count = poly.inside(lattice((-DX, -DX), (21 * DX, 21 * DX))).sum()
    assert count == 3 * 10 * 10 + 8 * 10 / 2 + 1
    lo, hi = poly.bounds()
    np.testing.assert_allclose(lo, [0, 0])
    np.testing.assert_allclose(hi, [2 * unit, 2 * unit])
    assert poly.min_feature_size() == pytest.approx(unit)


@pytest.mark.parametrize(
    "verts",
    [[(0, 0), (1, 0)], [(0, 0, 0), (1, 0, 0), (0, 1, 0)], [(0, 0), (1, 1), (2, 2)], [(0, 0), (1, 0), (0, np.inf)]],
    ids=["two-vertices", "3d", "zero-area", "non-finite"],
)
def test_polygon_rejects_bad_vertices(verts):
    with pytest.raises(ValueError):
        Polygon(verts)


# ----------------------------------------------------------------------- StlMesh


def _export(mesh, path, ascii_stl=False):
    mesh.export(str(path), file_type="stl_ascii" if ascii_stl else "stl")
    return path


@pytest.mark.parametrize("ascii_stl", [False, True], ids=["binary", "ascii"])
def test_stl_box_matches_analytic_box_including_faces(tmp_path, ascii_stl):
    # Box of 10 x 8 x 6 um written in micrometres, then shifted by (2, -1, 0) um.
    mesh = trimesh.creation.box(bounds=[[0, 0, 0], [10, 8, 6]])
    stl = StlMesh(_export(mesh, tmp_path / "box.stl", ascii_stl), scale=1e-6, translate=(2e-6, -1e-6, 0.0))
    box = Box((2e-6, -1e-6, 0.0), (12e-6, 7e-6, 6e-6))
    sites = lattice((0.0, -3 * DX, -2 * DX), (14 * DX, 9 * DX, 8 * DX))
    expected = box.inside(sites)
    assert expected.sum() == 11 * 9 * 7
    np.testing.assert_array_equal(stl.inside(sites), expected)
    lo, hi = stl.bounds()
    np.testing.assert_allclose(lo, [2e-6, -1e-6, 0.0])
    np.testing.assert_allclose(hi, [12e-6, 7e-6, 6e-6])
    assert stl.min_feature_size() == pytest.approx(6e-6)
    assert stl.dim == 3


def test_stl_icosphere_matches_sphere_away_from_facets(tmp_path, monkeypatch):
    r = 10.0
    path = _export(trimesh.creation.icosphere(subdivisions=3, radius=r), tmp_path / "ball.stl")
    stl = StlMesh(path, scale=DX)
    sites = lattice((-12 * DX,) * 3, (12 * DX,) * 3)
    rng = np.random.default_rng(7)
    points = np.vstack([sites, rng.uniform(-12 * DX, 12 * DX, size=(5000, 3))])
    got = stl.inside(points)
    # The faceted sphere lies between its inscribed radius and r.
    dist = np.linalg.norm(points, axis=1)
    clear = (dist < 0.98 * r * DX) | (dist > r * DX)
    np.testing.assert_array_equal(got[clear], dist[clear] < r * DX)
    # Chunked evaluation gives the same answer as one batch.
    monkeypatch.setattr(shapes, "STL_CHUNK", 997)
    np.testing.assert_array_equal(stl.inside(points), got)


def test_stl_lattice_volume_matches_mesh_volume(tmp_path):
    mesh = trimesh.creation.icosphere(subdivisions=3, radius=10.0)
    stl = StlMesh(_export(mesh, tmp_path / "ball.stl"), scale=DX)
    count = stl.inside(lattice((-11 * DX,) * 3, (11 * DX,) * 3)).sum()
    assert count * DX**3 == pytest.approx(mesh.volume * DX**3, rel=0.03)


def test_ray_ties_through_edges_and_vertices_count_once():
    # Octahedron |x| + |y| + |z| <= 1: lattice columns hit its vertices and edges
    # exactly; with zero tolerance every off-surface site must still be right.
    v = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], dtype=float)
    f = np.array([[0, 2, 4], [2, 1, 4], [1, 3, 4], [3, 0, 4], [2, 0, 5], [1, 2, 5], [3, 1, 5], [0, 3, 5]])
    assert trimesh.Trimesh(v, f, process=False).is_watertight
    caster = shapes._ParityRayCaster(v, f)
    pts = lattice((-1.5,) * 3, (1.5,) * 3, dx=0.25)
    l1 = np.abs(pts).sum(axis=1)
    off_surface = np.abs(l1 - 1.0) > 1e-9
    got = caster.contains(pts, 0.0)
    np.testing.assert_array_equal(got[off_surface], l1[off_surface] < 1.0)
    assert (l1 < 1.0).sum() > 50


def test_stl_missing_file(tmp_path):
    with pytest.raises(GeometryError, match="does not exist"):
        StlMesh(tmp_path / "nope.stl")


def test_stl_garbage_bytes(tmp_path):
    path = tmp_path / "garbage.stl"
    path.write_bytes(np.random.default_rng(3).bytes(1001))
    with pytest.raises(GeometryError, match="not an STL file"):
        StlMesh(path)


def test_stl_text_file(tmp_path):
    path = tmp_path / "notes.stl"
    path.write_text("These are my notes, not a mesh.\n")
    with pytest.raises(GeometryError, match="not an STL file"):
        StlMesh(path)


def test_stl_without_triangles(tmp_path):
    path = tmp_path / "empty.stl"
    path.write_text("solid empty\nendsolid empty\n")
    with pytest.raises(GeometryError, match="no triangles"):
        StlMesh(path)


def test_stl_not_watertight(tmp_path):
    mesh = trimesh.creation.box(extents=(1, 1, 1))
    mesh.update_faces(np.arange(len(mesh.faces)) != 0)
    with pytest.raises(GeometryError, match="watertight"):
        StlMesh(_export(mesh, tmp_path / "open.stl"))


def test_stl_rejects_bad_scale(tmp_path):
    path = _export(trimesh.creation.box(extents=(1, 1, 1)), tmp_path / "box.stl")
    with pytest.raises(ValueError, match="scale"):
        StlMesh(path, scale=0.0)
    with pytest.raises(ValueError, match="translate"):
        StlMesh(path, translate=(0.0, 0.0))


def test_all_shapes_follow_the_protocol(tmp_path):
    path = _export(trimesh.creation.box(extents=(1, 1, 1)), tmp_path / "box.stl")
    for shape in (
        Box((0, 0), (1, 1)),
        Sphere((0, 0, 0), 1.0),
        Ellipsoid((0, 0), (1, 2)),
        HalfSpace((0, 0), (1, 0)),
        Polygon([(0, 0), (1, 0), (0, 1)]),
        StlMesh(path),
    ):
        assert isinstance(shape, Shape)
        assert shape.inside(np.zeros((0, shape.dim))).shape == (0,)


def test_stl_flat_closed_surface(tmp_path):
    # Two triangles back to back close up but enclose nothing.
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], dtype=float)
    flat = trimesh.Trimesh(v, [[0, 1, 2], [0, 2, 1]], process=False)
    path = tmp_path / "flat.stl"
    flat.export(str(path))
    with pytest.raises(GeometryError, match="flat"):
        StlMesh(path)
