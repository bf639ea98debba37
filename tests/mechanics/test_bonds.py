"""Host-side reads of the bond bits: bit k & 31 of word k >> 5, as pmb.bond_is_set reads it in kernels."""

import numpy as np

from pdssb.mechanics.bonds import bond_bit, intact_pairs


def _bits(n_sites: int, words: int, intact: list[tuple[int, int]]) -> np.ndarray:
    bits = np.zeros((n_sites, words), dtype=np.uint32)
    for site, k in intact:
        bits[site, k // 32] |= np.uint32(1 << (k % 32))
    return bits


def test_bond_bit_reads_the_right_word_and_bit():
    bits = _bits(4, 2, [(0, 0), (1, 31), (2, 37), (3, 63)])
    P = np.arange(4)
    for k, expected in ((0, [1, 0, 0, 0]), (31, [0, 1, 0, 0]), (37, [0, 0, 1, 0]), (63, [0, 0, 0, 1]), (5, [0, 0, 0, 0])):
        got = bond_bit(bits, P, k)
        assert got.dtype == bool and got.tolist() == [bool(e) for e in expected], k
    assert bond_bit(bits, slice(None), 37).tolist() == [False, False, True, False]


def test_intact_pairs_keeps_intact_bonds_and_the_partner_mask():
    bits = _bits(6, 1, [(0, 1), (1, 1), (3, 1)])
    lin = np.array([0, 2])  # offset 1 joins site p to p + 2
    P = np.array([0, 1, 2, 3])
    p, q = intact_pairs(bits, P, lin, 1)
    assert p.tolist() == [0, 1, 3] and q.tolist() == [2, 3, 5]
    partner = np.array([True, True, True, False, True, True])
    p, q = intact_pairs(bits, P, lin, 1, partner)
    assert p.tolist() == [0, 3] and q.tolist() == [2, 5]
