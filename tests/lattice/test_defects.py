"""Surface-defect pits: lattice volumes, face handling, pyramid relations and validation."""

import math

import numpy as np
import pytest

from pdssb.lattice.defects import Cube, FaceDefect, Pyramid, SemiEllipsoid, SemiSphere
from pdssb.lattice.shapes import Shape

DX = 0.5e-6  # lattice spacing, m
N = 40  # sites per axis; the domain is [0, N * DX] in every axis
L = N * DX
THICKNESS = 2e-6  # plate thickness for 2D volumes, m


def cell_centres(dim):
    """Cell-centred sites (i + 1/2) * DX of the domain, (N**dim, dim)."""
    axis = (np.arange(N) + 0.5) * DX
    return np.stack(np.meshgrid(*[axis] * dim, indexing="ij"), axis=-1).reshape(-1, dim)


def mouth_centre(face, dim):
    """Centre of the mouth on ``face``: mid-face, with the face coordinate along its normal."""
    c = [L / 2] * dim
    axis = "xyz".index(face[1])
    c[axis] = 0.0 if face[0] == "-" else L
    return tuple(c)


DEFECTS = {
    "semisphere": lambda face, c: SemiSphere(face, c, radius=14 * DX),
    "semiellipsoid": lambda face, c: SemiEllipsoid(face, c, half_width=15 * DX, depth=9 * DX),
    "pyramid": lambda face, c: Pyramid(face, c, aspect_ratio=1.0, width=24 * DX),
    "steep-pyramid": lambda face, c: Pyramid(face, c, aspect_ratio=2.0, height=30 * DX),
    "cube": lambda face, c: Cube(face, c, width=12 * DX, depth=8 * DX),
}


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("face", ["-y", "+x"])
@pytest.mark.parametrize("kind", sorted(DEFECTS))
def test_volume_matches_lattice_count(kind, face, dim):
    defect = DEFECTS[kind](face, mouth_centre(face, dim))
    count = defect.inside(cell_centres(dim)).sum()
    if dim == 2:
        measured, exact = count * DX**2 * THICKNESS, defect.volume(THICKNESS)
    else:
        measured, exact = count * DX**3, defect.volume()
    assert measured == pytest.approx(exact, rel=0.03)


@pytest.mark.parametrize("face", ["-y", "+y", "-x", "+x"])
def test_pit_opens_on_its_face_and_goes_into_the_body(face):
    defect = Cube(face, mouth_centre(face, 2), width=4 * DX, depth=2 * DX)
    axis = "xyz".index(face[1])
    inward = 1.0 if face[0] == "-" else -1.0
    along = np.zeros(2)
    along[1 - axis] = 1.0
    normal = np.zeros(2)
    normal[axis] = inward
    c = np.array(defect.center)
    pts = np.array(
        [
            c,  # mouth centre on the face
            c + 2 * DX * along,  # mouth corner on the face
            c + 3 * DX * along,  # on the face beyond the mouth
            c + 1 * DX * normal,  # inside the pit
            c + 2 * DX * normal - 2 * DX * along,  # bottom corner
            c + 3 * DX * normal,  # below the bottom
            c - 1 * DX * normal,  # behind the face, outside the body
        ]
    )
    assert defect.inside(pts).tolist() == [True, True, False, True, True, False, False]
    lo, hi = defect.bounds()
    span = sorted((c[axis], c[axis] + inward * 2 * DX))
    assert (lo[axis], hi[axis]) == pytest.approx(span)
    assert (lo[1 - axis], hi[1 - axis]) == pytest.approx((c[1 - axis] - 2 * DX, c[1 - axis] + 2 * DX))


def test_mouth_row_on_face_is_inside_3d():
    # Sites on the face z = L inside the 3D hemisphere's mouth circle count.
    r = 6 * DX
    defect = SemiSphere("+z", mouth_centre("+z", 3), radius=r)
    axis = np.arange(N + 1) * DX
    x, y = np.meshgrid(axis, axis, indexing="ij")
    face_sites = np.column_stack([x.ravel(), y.ravel(), np.full(x.size, L)])
    got = defect.inside(face_sites)
    expected = np.hypot(face_sites[:, 0] - L / 2, face_sites[:, 1] - L / 2) <= r
    np.testing.assert_array_equal(got, expected)
    assert got.sum() == expected.sum() > 100


def test_depth_mouth_width_and_feature_size():
    c = (L / 2, 0.0)
    s = SemiSphere("-y", c, radius=3e-6)
    assert (s.depth, s.mouth_width, s.min_feature_size()) == (3e-6, 6e-6, 3e-6)
    e = SemiEllipsoid("-y", c, half_width=2e-6, depth=5e-6)
    assert (e.depth, e.mouth_width, e.min_feature_size()) == (5e-6, 4e-6, 4e-6)
    p = Pyramid("-y", c, aspect_ratio=0.5, width=4e-6)
    assert (p.depth, p.mouth_width, p.min_feature_size()) == (2e-6, 4e-6, 2e-6)
    cube = Cube("-y", c, width=3e-6)
    assert (cube.depth, cube.mouth_width) == (3e-6, 3e-6)
    deep = Cube("-y", c, width=1e-6, depth=4e-6)
    assert (deep.depth, deep.mouth_width, deep.min_feature_size()) == (4e-6, 1e-6, 1e-6)


def test_exact_volumes():
    c2, c3 = mouth_centre("-y", 2), mouth_centre("-y", 3)
    r, t = 2e-6, 3e-6
    assert SemiSphere("-y", c2, r).volume(t) == pytest.approx(0.5 * math.pi * r * r * t)
    assert SemiSphere("-y", c3, r).volume() == pytest.approx(2 / 3 * math.pi * r**3)
    assert SemiEllipsoid("-y", c3, 1e-6, 2e-6).volume() == pytest.approx(2 / 3 * math.pi * 1e-12 * 2e-6)
    assert Pyramid("-y", c2, 2.0, width=1e-6).volume(t) == pytest.approx(0.5 * 1e-6 * 2e-6 * t)
    assert Pyramid("-y", c3, 2.0, width=1e-6).volume() == pytest.approx(1e-12 * 2e-6 / 3)
    assert Cube("-y", c3, 1e-6, 2e-6).volume() == pytest.approx(2e-18)


@pytest.mark.parametrize("ar, angle", [(0.2, 136.4), (1.0, 53.1), (2.0, 28.1), (5.0, 11.4)])
def test_pyramid_vertex_angle(ar, angle):
    p = Pyramid("-y", (0.0, 0.0), aspect_ratio=ar, width=1e-6)
    assert p.vertex_angle_deg == pytest.approx(angle, abs=0.05)
    # The angle is that of the triangle itself: tan(angle / 2) = (width / 2) / height.
    assert math.tan(math.radians(p.vertex_angle_deg) / 2) == pytest.approx(0.5 * p.width / p.height)


def test_pyramid_width_height_from_aspect_ratio():
    from_width = Pyramid("-y", (0.0, 0.0, 0.0), aspect_ratio=2.5, width=2e-6)
    assert from_width.height == pytest.approx(5e-6)
    from_height = Pyramid("-y", (0.0, 0.0, 0.0), aspect_ratio=2.5, height=5e-6)
    assert from_height.width == pytest.approx(2e-6)
    both = Pyramid("-y", (0.0, 0.0, 0.0), aspect_ratio=2.5, width=2e-6, height=5e-6)
    assert (both.width, both.height) == (2e-6, 5e-6)
    with pytest.raises(ValueError, match="disagrees"):
        Pyramid("-y", (0.0, 0.0), aspect_ratio=2.5, width=2e-6, height=5.001e-6)
    with pytest.raises(ValueError, match="width or height"):
        Pyramid("-y", (0.0, 0.0), aspect_ratio=2.5)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: SemiSphere("-y", (0.0, 0.0), radius=0.0), "radius"),
        (lambda: SemiSphere("-y", (0.0, 0.0), radius=-1e-6), "radius"),
        (lambda: SemiEllipsoid("-y", (0.0, 0.0), half_width=1e-6, depth=0.0), "depth"),
        (lambda: SemiEllipsoid("-y", (0.0, 0.0), half_width=-1e-6, depth=1e-6), "half_width"),
        (lambda: Pyramid("-y", (0.0, 0.0), aspect_ratio=0.0, width=1e-6), "aspect_ratio"),
        (lambda: Pyramid("-y", (0.0, 0.0), aspect_ratio=1.0, width=-1e-6), "width"),
        (lambda: Pyramid("-y", (0.0, 0.0), aspect_ratio=1.0, height=0.0), "height"),
        (lambda: Cube("-y", (0.0, 0.0), width=0.0), "width"),
        (lambda: Cube("-y", (0.0, 0.0), width=1e-6, depth=-1e-6), "depth"),
        (lambda: Cube("y", (0.0, 0.0), width=1e-6), "Unknown face"),
        (lambda: Cube("+w", (0.0, 0.0), width=1e-6), "Unknown face"),
        (lambda: Cube("-z", (0.0, 0.0), width=1e-6), "does not exist in 2D"),
        (lambda: Cube("-y", (0.0,), width=1e-6), "center"),
        (lambda: SemiSphere("-y", (0.0, 0.0), radius=1e-6).volume(), "thickness"),
        (lambda: SemiSphere("-y", (0.0, 0.0), radius=1e-6).volume(0.0), "thickness"),
        (lambda: SemiSphere("-y", (0.0, 0.0, 0.0), radius=1e-6).volume(1e-6), "thickness"),
        (lambda: SemiSphere("-y", (0.0, 0.0, 0.0), radius=1e-6).inside(np.zeros((3, 2))), "shape"),
    ],
)
def test_bad_arguments_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_defects_follow_the_shape_protocol():
    for kind, make in DEFECTS.items():
        defect = make("-x", mouth_centre("-x", 3))
        assert isinstance(defect, Shape) and isinstance(defect, FaceDefect), kind
        assert defect.dim == 3
    with pytest.raises(TypeError):
        FaceDefect("-y", (0.0, 0.0))
