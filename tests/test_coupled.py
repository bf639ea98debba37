"""The coupled step with fluid Li (li_mechanics = "fluid", mechanics/fluid.py) and with elastic Li."""

import numpy as np
import pytest

from pdssb.config.loader import parse_scene_text, validate_scene
from pdssb.config.resolve import resolve
from pdssb.coupled import CoupledSimulation
from pdssb.errors import InputError
from pdssb.mechanics.bonds import bond_bit

from .scenes import li_pit

LI_YIELD_PA = 0.4e6  # seed 000, Table 1




def _pit(t_end="10 s", gc="9.45 J m^-2", dx="0.2 um") -> str:
    return li_pit(t_end=t_end, fracture_energy=gc, dx_um=float(dx.split()[0]))


def _sim(t_end="10 s", gc="9.45 J m^-2", dx="0.2 um", extra=""):
    text = _pit(t_end, gc, dx) + extra
    return CoupledSimulation(resolve(validate_scene(parse_scene_text(text))))


def test_confined_li_is_hydrostatic():
    """Closed form: Li yields at 0.4 MPa, so confined Li is a fluid whose stress is −p I; its deviatoric
    stress must stay at or below the yield. Measured as the virial of the forces the Li of a plated pit
    puts on its walls (each at its bond's midpoint, in the deformed state) over the cavity's volume: at
    ≈ 17 MPa of Li pressure after 10 s of plating the deviatoric part is below 0.4 MPa, and the mean
    stress is −p (the walls' weights integrate the cavity's surface: mechanics/fluid.py)."""
    sim = _sim()
    for r in sim.steps():
        sim.record(r)
    fl = sim.fluid
    assert fl.n_bodies == 1 and not fl.open[0]
    p = fl.p[0]
    assert p > 10e6
    s = fl.li_stress(0)
    dev = s - np.trace(s) / 2 * np.eye(2)
    assert np.trace(s) / 2 == pytest.approx(-p, rel=1e-3)
    assert np.sqrt(1.5 * (dev * dev).sum()) <= LI_YIELD_PA
    # the snapshot reports the fluid's stress as −p I, von Mises 0
    fields = sim.snapshot_fields()
    li = sim.setup.fluid
    assert np.allclose(fields["hydrostatic_Pa"][li], -p) and not fields["von_mises_Pa"][li].any()


def test_li_fills_a_precrack_it_reaches_and_plates_on_its_faces():
    """A pre-crack from the pit's crown into the electrolyte: its face sites (damage ≈ 0.4 ≥ 0.35) are the
    pit body's wet cluster, its cut bonds are wet (they carry the pressure and are electrode: the plating
    current reaches the electrolyte sites along the crack), and the opening counts in the cavity. A
    pre-crack that reaches the free side instead makes the body open: p = 0."""
    crack = '''
[[precracks]]
type = "segment"
points = [["3.1 um", "1.6 um"], ["3.1 um", "3.4 um"]]
'''
    sim = _sim(t_end="5 s", extra=crack)
    fl, lat = sim.fluid, sim.setup.lattice
    assert fl.n_bodies == 1 and not fl.open[0]
    faces = lat.gather(fl.member) & sim.roles.se  # the wet cluster: the crack's face sites
    x = lat.positions()
    assert faces.any() and np.all(np.abs(x[faces, 0] - 3.1e-6) < 0.25e-6) and x[faces, 1].max() > 3.2e-6
    wet = lat.gather(fl.wet_sites)  # and the sites whose bonds cross the crack (within a horizon of it)
    assert np.all(np.abs(x[wet, 0] - 3.1e-6) < 0.65e-6) and not (wet & sim.setup.fluid).any()
    for r in sim.steps():
        sim.record(r)
    q, _ = sim.cond.plating()
    assert q[wet].sum() > 0  # the crack faces plate
    assert fl.p[0] > 0 and fl.v_cav[0] > fl.v0[0]  # pressurised, and the crack opened
    side = crack.replace('"3.1 um", "1.6 um"], ["3.1 um", "3.4 um"', '"3.1 um", "1.3 um"], ["6 um", "1.3 um"')
    open_sim = _sim(t_end="5 s", extra=side)
    assert open_sim.fluid.open.all()
    for r in open_sim.steps():
        open_sim.record(r)
    assert open_sim.fluid.p.max() == 0.0


def test_elastic_li_fills_cracks_by_conversion():
    """li_mechanics = "elastic": Li is PMB bonds with an eigenstrain, and the electrolyte sites of a crack it
    reaches turn into Li with their allowed bonds re-formed (CoupledSimulation.li_fill)."""
    crack = '''
[[precracks]]
type = "segment"
points = [["3.1 um", "1.6 um"], ["3.1 um", "3.4 um"]]
'''
    text = _pit("1 s") + crack
    text = text.replace('deposition = "fluid"', 'deposition = "fluid"\nli_mechanics = "elastic"')
    sim = CoupledSimulation(resolve(validate_scene(parse_scene_text(text))))
    assert sim.fluid is None and sim.setup.fluid is None
    li0 = sim.roles.li.sum()
    for r in sim.steps():
        sim.record(r)
    assert sim.roles.li.sum() > li0
    filled = sim.roles.li & (sim.setup.material_ids != sim.li_id)
    idx = sim.setup.lattice.interior_index()[filled]
    bits, allowed = sim.model.bits.to_numpy(), sim.model.allowed.to_numpy()
    assert np.array_equal(bits[idx], allowed[idx])


def test_first_break_is_bracketed():
    """With first_break_resolution the step in which the first bonds break is halved until it is at most
    that long: the summary brackets the first break to 0.1 s (the scene's Δt is 5 s)."""
    text = _pit("12 s", "0.0007 J m^-2", "0.3 um")
    text = text.replace('dt = "5 s"', 'dt = "5 s"\nfirst_break_resolution = "0.1 s"')
    sim = CoupledSimulation(resolve(validate_scene(parse_scene_text(text))))
    sim.run(None)
    lo, hi = sim.summary("completed", 0.0)["first_break_s"]
    assert 0 < hi - lo <= 0.1 + 1e-12
    rows = sim.records
    first = next(r for r in rows if r["bonds_broken_total"] > 0)
    assert first["time_s"] == hi and all(r["bonds_broken_total"] == 0 for r in rows if r["time_s"] <= lo)


def test_fluid_li_needs_one_lithium_material():
    """Two free lithium materials (two bulk moduli) are refused with a one-line error naming the field."""
    text = _pit("1 s")
    text = text.replace('[[bodies]]\nmaterial = "Li"', '[materials.Li2]\nbase = "Li"\n[[bodies]]\nmaterial = "Li"', 1)
    text = text.replace('fill = "Li"', 'fill = "Li2"').replace('depth = "0.6 um"', 'depth = "0.4 um"')  # a free Li row
    with pytest.raises(InputError) as err:
        resolve(validate_scene(parse_scene_text(text)))
    assert err.value.where == "electrochem.li_mechanics"


def test_fluid_sites_carry_no_bond_and_hide_no_bridge():
    """Fluid Li sites hold no mechanical bond (c = 0 against every material), and no bond between two other
    sites crosses a fluid cell (line of sight treats fluid as void); the bonds from the electrolyte to the
    fluid (its walls) stay."""
    sim = _sim(t_end="1 s")
    m, lat = sim.model, sim.setup.lattice
    fid = m.table.fluid_id
    assert not m.table.c[fid].any() and not m.table.c[:, fid].any()
    fl = lat.scatter(sim.setup.fluid)
    ids = m.mat.to_numpy() & 0xFFFF
    bits = m.bits.to_numpy()
    lin = m.lin.to_numpy()
    P = np.nonzero((ids != 0) & ~fl)[0]
    from pdssb.mechanics.fluid import crossings

    cross = crossings(m.stencil, lat)
    walls = 0
    for k in range(len(lin)):
        Q = P + lin[k]
        on = bond_bit(bits, P, k)
        walls += int((on & fl[Q]).sum())
        through = np.zeros(P.shape, bool)
        for c in cross[k]:
            through |= fl[P + c]
        assert not (on & through & ~fl[Q]).any()
    assert walls > 0


@pytest.mark.parametrize("span", ["point", "pieces", "electrodes"])
def test_damage_rules_of_failure(span):
    """The failure rules on a prescribed damage field (electrochem.failure.span), threshold 0.8: "point"
    holds for any one electrolyte site at the threshold; "pieces" when the sites below it fall into two
    face-connected pieces of ≥ 5 % of the electrolyte each, which a band one site wide does, also when it
    runs diagonally, and a band that stops short of the far face does not; "electrodes" when damaged sites
    join the Li to the counter electrode."""
    sim = _sim(extra=f'[electrochem.failure]\nspan = "{span}"\n')
    shape = sim.setup.lattice.shape
    x = sim.setup.lattice.positions() / 0.2e-6
    se = sim.roles.se
    col = np.floor(x[:, 0]).astype(int)
    row = np.floor(x[:, 1]).astype(int)

    def holds(band):
        return sim.check_failure(np.where(se & band, 1.0, 0.0))["damage_path"]

    assert not holds(np.zeros(se.size, bool))
    one = np.zeros(se.size, bool)
    one[np.nonzero(se)[0][len(np.nonzero(se)[0]) // 2]] = True
    vertical = col == shape[0] // 4  # from the anode layer to the top, away from the pit
    short = vertical & (row < shape[1] - 4)
    diagonal = col - row == 12  # one site wide, from the anode layer to the right face (a corner of 10 %)
    expect = {"point": (True, True, True, True), "pieces": (False, True, False, True),
              "electrodes": (False, True, False, False)}[span]
    assert (holds(one), holds(vertical), holds(short), holds(diagonal)) == expect


def test_the_row_reports_the_li_pressure_of_the_equilibrium_not_of_the_re_formed_bodies():
    """After a step's equilibrium, Li follows the new cracks and the bodies are re-formed (new wet sites,
    crack faces joined), and their pressure is re-evaluated at the same displacement, with no equilibrium
    until the next step. The row's li_pressure_max_MPa must be the equilibrium's value: here the two
    differ in some steps (the test would not tell them apart otherwise) and the row equals the first."""
    text = li_pit(title="coarse pit", dx_um=0.3, fracture_energy="0.002 J m^-2", tolerance=1e-4,
                  voltage="0.2 V", t_end="60 s", output="[output]\ncheckpoint = false\n")
    sim = CoupledSimulation(resolve(validate_scene(parse_scene_text(text))))
    seen = []
    after = sim.update_after_step

    def update_after_step():
        at_equilibrium = float(sim.fluid.p.max(initial=0.0))
        out = after()
        seen.append((at_equilibrium, float(sim.fluid.p.max(initial=0.0))))
        return out

    sim.update_after_step = update_after_step
    rows = [sim.record(r) for r in sim.steps()]
    assert len(rows) == len(seen) > 3
    assert any(abs(post - pre) > 0.01 * max(pre, 1.0) for pre, post in seen)
    for row, (pre, _) in zip(rows, seen):
        assert row["li_pressure_max_MPa"] == pre / 1e6


def test_the_failure_rule_reads_the_damage_over_its_length():
    """electrochem.failure.length: the rule reads the mean damage of the electrolyte sites within the length.
    One site at full damage holds the point rule without it; with a length of 0.4 µm (2 Δx: the 13 sites of
    Gauss's count N(2)) its mean is 1/13 and the rule does not hold. A damaged disc of radius 0.8 µm holds it
    with the length too: its centre's ball lies wholly in the disc (mean 1), and the crack depth the row
    reports is that of the damaged sites, not of the mean."""
    plain = _sim(extra='[electrochem.failure]\nspan = "point"\n')
    long_ = _sim(extra='[electrochem.failure]\nspan = "point"\nlength = "0.4 um"\n')
    se = plain.roles.se
    x = plain.setup.lattice.positions()
    centre = np.array([2.1e-6, 6.1e-6])
    r = np.linalg.norm(x - centre, axis=1)
    one = np.where(se & (r == r[se].min()), 1.0, 0.0)
    assert one.sum() == 1
    assert plain.check_failure(one)["damage_path"]
    assert not long_.check_failure(one)["damage_path"]
    disc = np.where(se & (r <= 0.8e-6), 1.0, 0.0)
    assert long_.check_failure(disc)["damage_path"]
    assert long_.check_failure(disc)["depth"] == plain.check_failure(disc)["depth"] > 0
