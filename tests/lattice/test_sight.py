"""Line of sight: the cells a bond crosses, and the bonds a lattice body has because of them."""

import numpy as np
import pytest

from pdssb.lattice.sight import crossed_cells, crossing_table
from pdssb.lattice.stencil import Stencil

# worked by hand: the segment t·o, t ∈ (0, 1), enters the open cell |x − c|_∞ < ½
HAND = {
    (1, 0): [],
    (1, 1): [],  # passes through the corner (½, ½): touches (1, 0) and (0, 1), crosses neither
    (2, 0): [(1, 0)],
    (3, 0): [(1, 0), (2, 0)],
    (2, 1): [(1, 0), (1, 1)],  # through the edge point (1, ½) between the two
    (3, 1): [(1, 0), (2, 1)],  # (1, 0) for t ∈ (1/6, 1/2), (2, 1) for t ∈ (1/2, 5/6)
    (3, 2): [(1, 0), (1, 1), (2, 1), (2, 2)],
    (2, 2): [(1, 1)],
    (-2, 1): [(-1, 0), (-1, 1)],
    (1, 1, 1): [],
    (2, 1, 1): [(1, 0, 0), (1, 1, 1)],  # through the edge point (1, ½, ½): touches (1, 1, 0), (1, 0, 1)
    (2, 2, 1): [(1, 1, 0), (1, 1, 1)],
    (3, 1, 1): [(1, 0, 0), (2, 1, 1)],
    (2, 0, 1): [(1, 0, 0), (1, 0, 1)],
}


@pytest.mark.parametrize("offset", sorted(HAND, key=lambda o: (len(o), o)))
def test_crossed_cells_by_hand(offset):
    assert sorted(crossed_cells(offset)) == sorted(HAND[offset])


@pytest.mark.parametrize("dim", [2, 3])
def test_the_table_is_the_same_segment_seen_from_either_end(dim):
    """Offset −o crosses the cells c − o of offset o (the same cells, from the other end), and the
    table lists each offset's cells between start[k] and start[k + 1]."""
    st = Stencil(dim, 3.0)
    start, cells = crossing_table(st)
    assert start[0] == 0 and start[-1] == len(cells)
    opp = st.opposite()
    for k, o in enumerate(st.offsets):
        mine = {tuple(c) for c in cells[start[k]:start[k + 1]]}
        theirs = {tuple(c + o) for c in cells[start[opp[k]]:start[opp[k] + 1]]}
        assert mine == theirs
        # and the cells lie in the box between the ends, never at an end
        assert all(tuple(c) != tuple(o) and any(c) for c in cells[start[k]:start[k + 1]])


def _slit_model(width: int, line_of_sight: bool = True):
    """A 16 × (12 + width) plane-strain body with a void slit `width` columns wide along rows 0–7."""
    from pdssb.mechanics.model import MechanicsModel
    from tests.mechanics.bars import elastic_bar

    ids = np.ones((16, 12 + width), np.int32)
    ids[:8, 6:6 + width] = 0
    saved = MechanicsModel.line_of_sight
    MechanicsModel.line_of_sight = line_of_sight
    try:
        lat, st, model = elastic_bar(ids.shape, ids=ids)
    finally:
        MechanicsModel.line_of_sight = saved
    return lat, st, ids, model


def _bit(bits, i, k) -> bool:
    return bool((bits[i, k >> 5] >> np.uint32(k & 31)) & 1)


@pytest.mark.parametrize("width", [1, 2])
def test_the_kernel_keeps_exactly_the_bonds_the_table_allows(width):
    """Bond by bond, the kernel's bits equal a host-side reading of the table: a bond exists when both
    ends are solid and every cell it crosses is solid. With no pre-crack, bits = allowed."""
    lat, st, ids, model = _slit_model(width)
    bits = model.bits.to_numpy()
    assert np.array_equal(bits, model.allowed.to_numpy())
    start, cells = crossing_table(st)
    idx = lat.interior_index().reshape(lat.shape)
    shape = np.array(lat.shape)
    for site in np.argwhere(ids == 1):
        for k, o in enumerate(st.offsets):
            j = site + o
            expected = bool(np.all((j >= 0) & (j < shape)) and ids[tuple(j)]
                            and all(ids[tuple(site + c)] for c in cells[start[k]:start[k + 1]]))
            assert _bit(bits, idx[tuple(site)], k) == expected, (site, o)


@pytest.mark.parametrize("width", [1, 2])
def test_a_slit_is_a_crack_with_line_of_sight_and_bridged_without(width):
    """Within the slit's length no bond joins its two sides; beyond its end the bonds across its line
    stay. Without line of sight (the switch only tests use) the slit is bridged by bonds of length
    (width + 1)…3 Δx, as the engine had it."""
    for los in (True, False):
        lat, st, ids, model = _slit_model(width, los)
        bits = model.bits.to_numpy()
        idx = lat.interior_index().reshape(lat.shape)
        bridging = 0
        for r in range(8):  # rows of the slit
            for c in range(6):  # below it
                for k, o in enumerate(st.offsets):
                    jr, jc = r + o[0], c + o[1]
                    if 0 <= jr < 8 and jc >= 6 + width and _bit(bits, idx[r, c], k):
                        bridging += 1
        assert (bridging == 0) if los else (bridging > 0)
        straight = st.offsets.tolist().index([0, width + 1])
        assert _bit(bits, idx[12, 5], straight)  # beyond the slit's end: bonded across its line
