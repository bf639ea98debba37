"""Pre-cracks cut exactly the bonds that cross them (lattice/precrack.py)."""

import itertools

import numpy as np
import pytest

from pdssb.lattice.grid import Lattice
from pdssb.lattice.precrack import CrackPolygon, CrackSegment, clear_bits, cut_bonds, plane_of
from pdssb.lattice.stencil import Stencil

DX = 1e-6


def _pairs(lat: Lattice, st: Stencil, rows: np.ndarray) -> set:
    """The cut bonds as unordered pairs of interior site coordinates."""
    idx = lat.interior_index()
    coord = {int(p): tuple(np.unravel_index(n, lat.shape)) for n, p in enumerate(idx)}
    return {frozenset((coord[int(i)], coord[int(j)])) for i, _, j, _ in rows}


def _brute(lat: Lattice, st: Stencil, crosses) -> set:
    """Every bond p–q of the lattice (p, q in lattice units) for which ``crosses(p, q)``."""
    out = set()
    for p in itertools.product(*(range(n) for n in lat.shape)):
        for o in st.offsets:
            q = tuple(np.add(p, o))
            if all(0 <= q[a] < lat.shape[a] for a in range(lat.dim)) and crosses(np.array(p, float), np.array(q, float)):
                out.add(frozenset((p, q)))
    return out


def test_a_segment_between_rows_cuts_the_bonds_that_cross_it():
    """A segment on the line between rows 5 and 6 (y = 6 Δx), from x = 0 to x = 4 Δx: a bond is cut when
    one end is in a row ≤ 5, the other in a row ≥ 6, and it crosses the line at x < 4 Δx (3.5 in lattice
    units, where site i sits at i: x = (i + ½) Δx). A bond through the tip, e.g. (3, 5)–(4, 6), only
    touches the crack and is not cut."""
    st = Stencil(2, 3.0)
    lat = Lattice((12, 12), DX, halo=st.reach)
    rows = cut_bonds(lat, st, CrackSegment((0.0, 6 * DX), (4 * DX, 6 * DX)))

    def crosses(p, q):
        if (p[1] <= 5) == (q[1] <= 5):
            return False
        t = (5.5 - p[1]) / (q[1] - p[1])
        return p[0] + t * (q[0] - p[0]) < 3.5 - 1e-12

    got = _pairs(lat, st, rows)
    assert got == _brute(lat, st, crosses)
    assert frozenset(((3, 5), (4, 6))) not in got and frozenset(((3, 5), (3, 6))) in got
    assert len(got) == len(rows)  # each bond once


def test_a_slanted_segment_and_one_through_sites():
    """A slanted segment cuts the bonds whose ends lie on opposite sides and that cross it between its
    ends. A segment along a row of sites (y = 6.5 Δx: through the centres of row 6) still separates:
    the row counts as the positive side, so its bonds to the rows below are cut and the bonds along it
    are not."""
    st = Stencil(2, 3.0)
    lat = Lattice((14, 14), DX, halo=st.reach)
    a, b = np.array([1.3, 2.2]), np.array([11.9, 9.7])  # in lattice units (sites at integer indices)
    crack = CrackSegment(tuple((a + 0.5) * DX), tuple((b + 0.5) * DX))

    def crosses(p, q):
        d = b - a
        sp = d[0] * (p[1] - a[1]) - d[1] * (p[0] - a[0])
        sq = d[0] * (q[1] - a[1]) - d[1] * (q[0] - a[0])
        if (sp >= 0) == (sq >= 0):
            return False
        x = p + sp / (sp - sq) * (q - p)
        u = (x - a) @ d / (d @ d)
        return 0 < u < 1

    assert _pairs(lat, st, cut_bonds(lat, st, crack)) == _brute(lat, st, crosses)

    through = cut_bonds(lat, st, CrackSegment((0.0, 6.5 * DX), (14 * DX, 6.5 * DX)))
    pairs = _pairs(lat, st, through)
    assert all(min(p[1], q[1]) < 6 <= max(p[1], q[1]) for p, q in map(tuple, pairs))
    assert frozenset(((4, 6), (4, 5))) in pairs and frozenset(((4, 6), (5, 6))) not in pairs
    assert frozenset(((4, 6), (4, 7))) not in pairs


def test_a_square_in_3d_cuts_the_bonds_that_cross_it():
    """A square pre-crack in the plane z = 4 Δx (between layers 3 and 4), covering 1 ≤ x, y ≤ 5 Δx
    (lattice units 0.5…4.5): a bond is cut when its ends lie in layers ≤ 3 and ≥ 4 and its crossing
    point lies strictly inside the square."""
    st = Stencil(3, 2.0)
    lat = Lattice((7, 7, 8), DX, halo=st.reach)
    square = CrackPolygon(((DX, DX, 4 * DX), (5 * DX, DX, 4 * DX), (5 * DX, 5 * DX, 4 * DX), (DX, 5 * DX, 4 * DX)))

    def crosses(p, q):
        if (p[2] <= 3) == (q[2] <= 3):
            return False
        t = (3.5 - p[2]) / (q[2] - p[2])
        x = p + t * (q - p)
        return 0.5 < x[0] < 4.5 and 0.5 < x[1] < 4.5

    rows = cut_bonds(lat, st, square)
    assert _pairs(lat, st, rows) == _brute(lat, st, crosses)
    assert len(rows) > 0


def test_a_tilted_triangle_in_3d():
    """A triangle in a tilted plane: the cut set equals the brute-force one (opposite sides of the plane,
    crossing point inside the triangle by barycentric coordinates). The bond (2, 4, 4)–(2, 6, 3) crosses
    the plane exactly on the edge v0–v2 (at 13/22 of it): touching, not cut."""
    st = Stencil(3, 2.0)
    lat = Lattice((8, 8, 8), DX, halo=st.reach)
    v = np.array([[0.7, 0.4, 1.9], [6.8, 1.3, 3.7], [2.9, 6.6, 5.4]])  # lattice units
    tri = CrackPolygon(tuple(map(tuple, (v + 0.5) * DX)))
    n = np.cross(v[1] - v[0], v[2] - v[0])

    def crosses(p, q):
        sp, sq = (p - v[0]) @ n, (q - v[0]) @ n
        if (sp >= 0) == (sq >= 0):
            return False
        x = p + sp / (sp - sq) * (q - p)
        m = np.column_stack([v[1] - v[0], v[2] - v[0]])
        lam = np.linalg.lstsq(m, x - v[0], rcond=None)[0]
        return lam[0] > 1e-12 and lam[1] > 1e-12 and lam.sum() < 1 - 1e-12

    pairs = _pairs(lat, st, cut_bonds(lat, st, tri))
    assert pairs == _brute(lat, st, crosses)
    assert frozenset(((2, 4, 4), (2, 6, 3))) not in pairs


def test_clear_bits_clears_both_ends_and_nothing_else():
    st = Stencil(2, 3.0)
    lat = Lattice((10, 10), DX, halo=st.reach)
    rows = cut_bonds(lat, st, CrackSegment((0.0, 5 * DX), (10 * DX, 5 * DX)))
    bits = np.full((lat.n_padded, st.words), np.uint32(0xFFFFFFFF))
    clear_bits(bits, rows)
    cleared = np.unpackbits((~bits).view(np.uint8)).sum()
    assert cleared == 2 * len(rows)
    for i, k, j, kk in rows[:50]:
        assert not (bits[i, k >> 5] >> (k & 31)) & 1 and not (bits[j, kk >> 5] >> (kk & 31)) & 1


def test_void_ends_are_left_out_and_the_plane_of_a_polygon():
    st = Stencil(2, 3.0)
    lat = Lattice((10, 10), DX, halo=st.reach)
    ids = np.ones(lat.shape, np.int32)
    ids[:, 4] = 0  # the row just below the crack is void
    rows = cut_bonds(lat, st, CrackSegment((0.0, 5 * DX), (10 * DX, 5 * DX)), ids.ravel())
    void = lat.scatter(ids.ravel() == 0, fill=True)
    assert len(rows) and not void[rows[:, 0]].any() and not void[rows[:, 2]].any()
    c, n, off = plane_of(np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0.1], [0, 1, 0.0]]))
    assert off == pytest.approx(0.025, rel=0.2) and abs(n[2]) > 0.99


def test_a_scene_declares_precracks_with_units_and_the_run_cuts_them():
    """[[precracks]] in a scene: resolved to the bonds it cuts, applied when the run builds its body (the
    broken-bond count is the number of cuts, the face sites are damaged), and written back with units in
    the resolved scene."""
    from pdssb.config.loader import dump_scene, parse_scene_text, validate_scene
    from pdssb.config.resolve import resolve
    from pdssb.simulation import Simulation

    text = '''
[domain]
dim = 2
size = ["4 um", "4 um"]
dx = "0.2 um"
[materials.LAGP]
base = "LAGP"
[[bodies]]
material = "LAGP"
[[precracks]]
type = "segment"
points = [["0 um", "2 um"], ["1.6 um", "2 um"]]
'''
    setup = resolve(validate_scene(parse_scene_text(text)))
    assert setup.precrack_cuts is not None and len(setup.precrack_cuts) > 0
    model = Simulation(setup).model
    assert model.broken_bond_count() == len(setup.precrack_cuts)
    model.compute_damage()
    dmg = model.field("dmg").reshape(setup.lattice.shape)
    assert dmg[:8, 9].min() > 0.25 and dmg[:8, 10].min() > 0.25 and dmg[12:, :].max() == 0.0
    dumped = dump_scene(setup.scene)
    assert "[[precracks]]" in dumped and '"1.6 um"' in dumped
    again = resolve(validate_scene(parse_scene_text(dumped)))
    assert np.array_equal(again.precrack_cuts, setup.precrack_cuts)


def test_a_3d_scene_polygon_separates_what_it_spans():
    """A square pre-crack spanning a 3D body's whole cross-section (the plane z = 2 µm) cuts it in two:
    its intact bonds hold two pieces, and no site is removed."""
    from pdssb.config.loader import parse_scene_text, validate_scene
    from pdssb.config.resolve import resolve
    from pdssb.simulation import Simulation

    text = '''
[domain]
dim = 3
size = ["3 um", "3 um", "4 um"]
dx = "0.5 um"
[materials.LAGP]
base = "LAGP"
[[bodies]]
material = "LAGP"
[[precracks]]
type = "polygon"
vertices = [["0 um", "0 um", "2 um"], ["3 um", "0 um", "2 um"], ["3 um", "3 um", "2 um"], ["0 um", "3 um", "2 um"]]
'''
    setup = resolve(validate_scene(parse_scene_text(text)))
    model = Simulation(setup).model
    n, label = model.pieces(setup.material_ids != 0)
    assert n == 2 and (setup.material_ids != 0).all()
    z = setup.lattice.positions()[:, 2]
    assert len(np.unique(label[z < 2e-6])) == 1 and len(np.unique(label[z > 2e-6])) == 1
