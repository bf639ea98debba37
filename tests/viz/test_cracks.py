"""Crack faces from bond bits: where they are, which are Li-filled, and that they tile the crack."""

import numpy as np
import pytest

from pdssb.lattice.stencil import Stencil
from pdssb.viz.cracks import crack_faces, li_filled_sites, lithium_ids

from .conftest import bond_bits


def bits_cut_by(shape, cut):
    """Bond words with every bond between two sites whose ``cut(p, q)`` is true broken."""
    st = Stencil(len(shape), 3.0)
    coords = np.stack(np.unravel_index(np.arange(int(np.prod(shape))), shape), axis=1)
    bits = np.zeros((len(coords), st.words), dtype=np.uint32)
    for k, off in enumerate(st.offsets):
        nb = coords + off
        ok = ((nb >= 0) & (nb < np.array(shape))).all(axis=1) & ~cut(coords, nb)
        bits[ok, k >> 5] |= np.uint32(1) << np.uint32(k & 31)
    return bits, st.offsets


def test_a_straight_cut_gives_one_face_per_row():
    """Cutting the bonds across x = 2.5 of a 6 × 5 lattice: five faces at (2.5, j), normal x, each
    the unit segment (2.5, j ± 0.5)."""
    shape = (6, 5)
    bits, offsets = bits_cut_by(shape, lambda p, q: (p[:, 0] - 2.5) * (q[:, 0] - 2.5) < 0)
    faces = crack_faces(bits, offsets, shape, np.ones(30, bool), np.zeros(30, bool))
    assert len(faces) == 5 and (faces.axis == 0).all() and not faces.li_filled.any()
    assert np.allclose(faces.centre, [[2.5, j] for j in range(5)])
    assert np.allclose(np.abs(faces.normal), [1, 0])
    ends = faces.corners()
    assert np.allclose(np.sort(ends[:, :, 1], axis=1), [[j - 0.5, j + 0.5] for j in range(5)])


def test_a_slanted_crack_is_drawn_straight_and_without_gaps():
    """A 45° cut (y = x + 0.5) breaks its nearest-neighbour bonds in a staircase. Laid onto the local
    crack line, each face becomes a segment of length |n·e_a| = 1/√2 on the line y = x + 0.5, and
    consecutive segments meet end to end: together they are the line itself."""
    shape = (16, 16)

    def side(p):
        return p[:, 1] - p[:, 0] - 0.5

    bits, offsets = bits_cut_by(shape, lambda p, q: side(p) * side(q) < 0)
    faces = crack_faces(bits, offsets, shape, np.ones(256, bool), np.zeros(256, bool))
    inner = (faces.centre.min(axis=1) > 2) & (faces.centre.max(axis=1) < 13)  # away from the lattice's ends
    assert inner.sum() > 15
    ends = faces.corners()[inner]
    # to 1 % of a site: the weak prior towards each face's lattice plane (cracks._crack_planes) tilts it a little
    assert np.allclose(np.abs(faces.normal[inner]), 1 / np.sqrt(2), atol=0.01)
    assert np.abs(ends[:, :, 1] - ends[:, :, 0] - 0.5).max() < 0.01  # on the line
    lengths = np.linalg.norm(ends[:, 1] - ends[:, 0], axis=1)
    assert np.allclose(lengths, 1 / np.sqrt(2), rtol=0.01)
    along = np.sort(ends[:, :, 0], axis=1)  # x of each segment's two ends, segments sorted along the line
    along = along[np.argsort(along[:, 0])]
    assert np.allclose(along[1:, 0], along[:-1, 1], atol=0.01)  # no gap, no overlap


def test_a_plane_crack_in_3d_tiles_its_area():
    """The plane z = 7.5 cut through a 12³ lattice: 144 unit squares normal to z, area 12 × 12."""
    shape = (12, 12, 12)
    mat = np.ones(shape, np.int32)
    bits = bond_bits(shape, mat, [(2, 7.5, (-0.5, -0.5, 0), (11.5, 11.5, 0))])
    faces = crack_faces(bits, Stencil(3, 3.0).offsets, shape, np.ones(12**3, bool), np.zeros(12**3, bool))
    assert len(faces) == 144 and (faces.axis == 2).all()
    quads = faces.corners()
    assert np.allclose(quads[:, :, 2], 7.5)
    area = np.linalg.norm(np.cross(quads[:, 1] - quads[:, 0], quads[:, 3] - quads[:, 0]), axis=1)
    assert area.sum() == pytest.approx(144.0)


def test_li_filled_faces_and_sites():
    """A broken bond with a Li end is Li-filled; sites that are Li now but were electrolyte at the
    start are Li that followed a crack (the Li present at the start is not)."""
    shape = (4, 3)
    bits, offsets = bits_cut_by(shape, lambda p, q: (p[:, 1] - 0.5) * (q[:, 1] - 0.5) < 0)  # cut y = 0.5
    material = np.ones(12, np.int64)
    material[[0, 3]] = 2  # sites (0, 0) and (1, 0): Li
    faces = crack_faces(bits, offsets, shape, np.ones(12, bool), material == 2)
    assert len(faces) == 4
    assert faces.li_filled.tolist() == [True, True, False, False]  # faces above sites (0, 0), (1, 0), (2, 0), (3, 0)
    ids = lithium_ids(["electrolyte", "lithium"])
    assert ids.tolist() == [2]
    start = np.ones(12, np.int64)
    start[0] = 2  # (0, 0) was Li from the start; (1, 0) became Li
    assert np.nonzero(li_filled_sites(material, start, ids))[0].tolist() == [3]


def test_wet_flag_marks_the_faces_fluid_li_filled():
    """Fluid Li changes no material: a face is Li-filled when both its sites are wet (the snapshot's ``wet``
    field, the electrolyte sites of the cracks the Li entered), whatever the Li sites are."""
    shape = (4, 3)
    bits, offsets = bits_cut_by(shape, lambda p, q: (p[:, 1] - 0.5) * (q[:, 1] - 0.5) < 0)  # cut y = 0.5
    wet = np.zeros(12, bool)
    wet[[0, 1, 3, 4, 7]] = True  # both faces of the crack at x = 0 and 1; only the upper one at x = 2
    faces = crack_faces(bits, offsets, shape, np.ones(12, bool), np.zeros(12, bool), wet)
    assert faces.li_filled.tolist() == [True, True, False, False]
