"""Generated benchmark scenes: a coupled cell (LAGP on a Li layer, a Li-filled semi-spherical pit,
counter electrode on top) of ``n`` sites per side in 2D or 3D, horizon m = 3 by default.

The scenes are plain dicts in the scene-file format, validated and resolved by the ordinary
path (config.loader, config.resolve), so what is measured is what ``pdssb run`` would build.
"""

from __future__ import annotations

from pathlib import Path


def coupled_scene(dim: int, n: int, dx_um: float = 0.1, method: str = "adr", precision: str = "f64",
                  horizon_factor: float = 3.0, top_displacement_um: float = 0.0, voltage: float = 0.135) -> dict:
    """A seed-000-like coupled cell with ``n`` sites along every side (n^dim sites)."""
    L = n * dx_um
    li = max(2, round(0.06 * n)) * dx_um  # Li anode layer under the electrolyte
    um = lambda v: f"{v:.6g} um"  # noqa: E731
    size = [um(L)] * dim
    centre = [um(L / 2)] * dim
    centre[1] = um(li)
    domain = {"dim": dim, "size": size, "dx": um(dx_um), "horizon_factor": horizon_factor}
    if dim == 2:
        domain.update(plane="strain", thickness="1 um")
    top = ["0 um"] * dim
    top[1] = um(top_displacement_um)
    return {
        "title": f"bench: coupled cell {dim}D n={n}",
        "domain": domain,
        "materials": {"LAGP": {"base": "LAGP", "fracture_energy": "0.0007 J m^-2"}, "Li": {"base": "Li"}},
        "interfaces": [{"materials": ["LAGP", "Li"], "breakable": False}],
        "bodies": [{"material": "LAGP"},
                   {"material": "Li", "shape": {"type": "box", "lo": ["0 um"] * dim,
                                                "hi": [um(L)] + [um(li)] + [um(L)] * (dim - 2)}}],
        "defects": [{"type": "semi_sphere", "face": "-y", "center": centre, "radius": um(0.2 * L), "fill": "Li"}],
        "regions": {"top": {"face": "+y"}, "bottom": {"face": "-y", "depth": um(li)}},
        "boundary": [{"region": "top", "kind": "displacement", "value": top},
                     {"region": "bottom", "kind": "displacement", "value": ["0 um"] * dim}],
        "solver": {"method": method, "tolerance": 1e-4, "precision": precision},
        "electrochem": {"temperature": "300 K", "counter_electrode": "top",
                        "control": {"mode": "voltage", "value": f"{voltage:g} V"},
                        "kinetics": {"model": "butler_volmer", "exchange_current_density": "0.01 mA cm^-2",
                                     "alpha_a": 0.5, "alpha_c": 0.5},
                        "conductivity_damage": "seed000", "deposition": "fluid", "t_end": "10 s", "dt": "5 s"},
        "output": {"every": 10},
    }


def mechanics_scene(dim: int, n: int, **kw) -> dict:
    """The same cell without electrochemistry (mechanics fields only)."""
    data = coupled_scene(dim, n, **kw)
    del data["electrochem"]
    data["title"] = f"bench: mechanics cell {dim}D n={n}"
    data["eigenstrains"] = [{"material": "Li", "strain": 0.01}]
    return data


def setup_of(data: dict, precision: str):
    """Validate and resolve a scene dict (as ``pdssb run`` does)."""
    from ..config.loader import validate_scene
    from ..config.resolve import resolve

    return resolve(validate_scene(data), Path("."), precision)
