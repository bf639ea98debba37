"""A plane-strain elastic bar on the 2D lattice (m = 3, E = 100 GPa, ν = 1/4), for the direct-solver tests."""

import numpy as np


def elastic_bar(shape: tuple[int, int], dx: float = 1e-6, ids: np.ndarray | None = None, cuts: np.ndarray | None = None):
    """(lattice, stencil, model) of a rectangular bar of ``shape`` sites, one material (or void where
    ``ids`` is 0), f64; ``cuts``: bonds cut by pre-cracks (lattice.precrack.cut_bonds)."""
    from pdssb.lattice.grid import Lattice
    from pdssb.lattice.stencil import Stencil
    from pdssb.mechanics.bond_table import MaterialSpec, build_bond_table
    from pdssb.mechanics.model import MechanicsModel
    from pdssb.mechanics.pmb import site_volume

    h = dx
    st = Stencil(2, 3.0)
    lat = Lattice(shape, dx, halo=st.reach)
    vol = site_volume(dx, 2, h)
    table = build_bond_table([MaterialSpec("se", "electrolyte", 100e9, 0.25, 1000.0, 1.0, "error")], {}, "strain",
                             st, dx, vol, h)
    ids = np.ones(lat.n_sites, np.int32) if ids is None else np.asarray(ids, np.int32).ravel()
    model = MechanicsModel(lat, st, ids, table, "strain", h, "f64", cuts=cuts)
    return lat, st, model
