"""Lattice.ball_mean: a site field read over a fixed physical length."""

import numpy as np
import pytest

from pdssb.lattice.grid import Lattice


@pytest.mark.parametrize("dim", [2, 3])
def test_the_mean_of_a_constant_is_the_constant_up_to_the_mask_edge(dim):
    """Closed form: the mean of a constant c over any non-empty set of sites is c. The mask is half the
    lattice, so balls near its edge hold fewer sites, and the value outside the mask (9) must not enter."""
    lat = Lattice((12,) * dim, 0.5, halo=1)
    x = lat.positions()
    mask = x[:, 0] < 3.0
    values = np.where(mask, 0.37, 9.0)
    mean = lat.ball_mean(values, mask, 1.5)
    assert np.allclose(mean[mask], 0.37, rtol=0, atol=1e-12)
    # a site of the other half sees mask sites only within 1.5 of it: the rows next to the edge do
    near = ~mask & (x[:, 0] < 3.0 + 1.5)
    assert np.allclose(mean[near], 0.37, rtol=0, atol=1e-12)
    assert np.isnan(mean[~mask & ~near]).all()


@pytest.mark.parametrize("dim, radius, count", [(2, 1.0, 5), (2, 2.0, 13), (2, 2.5, 21), (3, 1.0, 7), (3, 1.5, 19)])
def test_one_site_is_shared_by_the_lattice_points_of_the_ball(dim, radius, count):
    """Closed form: a unit value on one site, zero elsewhere, averages to 1/N at that site, where N is the
    number of integer points within the radius (Gauss's circle problem: N(1) = 5, N(2) = 13, N(2.5) = 21 in
    2D; N(1) = 7, N(1.5) = 19 in 3D), and to 1/N at every site within the radius, 0 beyond it."""
    n = 11
    lat = Lattice((n,) * dim, 1.0, halo=1)
    centre = np.ravel_multi_index((n // 2,) * dim, (n,) * dim)
    values = np.zeros(lat.n_sites)
    values[centre] = 1.0
    mean = lat.ball_mean(values, np.ones(lat.n_sites, bool), radius)
    assert mean[centre] == pytest.approx(1.0 / count, rel=1e-12)
    r = np.linalg.norm(lat.positions() - lat.positions()[centre], axis=1)
    assert np.allclose(mean[r <= radius], 1.0 / count, rtol=1e-12)
    assert np.allclose(mean[r > radius], 0.0, atol=1e-12)


def test_a_linear_field_averages_to_its_centre_value_inside():
    """Closed form: a ball is symmetric about its centre, so the mean of a linear field a + b·x over a ball
    wholly inside the mask is its value at the centre."""
    lat = Lattice((20, 16), 0.1, halo=1)
    x = lat.positions()
    values = 0.2 + 3.0 * x[:, 0] - 1.5 * x[:, 1]
    mean = lat.ball_mean(values, np.ones(lat.n_sites, bool), 0.35)
    inner = (x[:, 0] > 0.4) & (x[:, 0] < 1.6) & (x[:, 1] > 0.4) & (x[:, 1] < 1.2)
    assert inner.sum() > 50
    assert np.allclose(mean[inner], values[inner], rtol=0, atol=1e-12)
