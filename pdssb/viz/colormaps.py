"""The fields the viewer and the renderer can colour by, their units and colour maps.

Each field maps the arrays of a snapshot (the NPZ names of :mod:`pdssb.io.snapshots`) to one
value per site in display units (MPa, µm, V, mA cm⁻², ...), and names a colour map. Colour maps
are 256-entry RGB lookup tables (uint8) taken from matplotlib once and cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Mapping

import numpy as np

from ..errors import InputError

__all__ = ["FIELDS", "FieldSpec", "colorize", "field_spec", "lut", "material_colors"]


def _magnitude(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return np.sqrt((a * a).sum(axis=1)) if a.ndim == 2 else np.abs(a)


@dataclass(frozen=True)
class FieldSpec:
    name: str  # CLI name
    key: str  # NPZ array it is computed from
    label: str  # colour-bar label
    unit: str  # display unit ("" for dimensionless)
    cmap: str  # matplotlib colour map
    convert: Callable[[np.ndarray], np.ndarray]
    symmetric: bool = False  # range symmetric about zero
    fixed: tuple[float, float] | None = None  # fixed range (damage: 0..1)
    categorical: bool = False  # material ids

    def values(self, fields: Mapping[str, np.ndarray]) -> np.ndarray:
        if self.key not in fields:
            raise InputError("--field", f"'{self.name}' is not in this snapshot (needs '{self.key}'; "
                                        "potential and current density exist in coupled runs only)")
        return np.asarray(self.convert(np.asarray(fields[self.key])), dtype=np.float64)

    @property
    def title(self) -> str:
        return f"{self.label} ({self.unit})" if self.unit else self.label


FIELDS: dict[str, FieldSpec] = {f.name: f for f in (
    FieldSpec("damage", "damage", "damage", "", "YlOrRd", lambda a: a, fixed=(0.0, 1.0)),
    FieldSpec("damage_directional", "damage_directional", "damage, most damaged bond", "", "YlOrRd", lambda a: a,
              fixed=(0.0, 1.0)),
    FieldSpec("von_mises", "von_mises_Pa", "von Mises stress", "MPa", "viridis", lambda a: a / 1e6),
    FieldSpec("hydrostatic", "hydrostatic_Pa", "hydrostatic stress", "MPa", "RdBu_r", lambda a: a / 1e6,
              symmetric=True),
    FieldSpec("displacement", "displacement_m", "displacement magnitude", "µm", "plasma",
              lambda a: _magnitude(a) * 1e6),
    FieldSpec("potential", "potential_V", "electrolyte potential", "V", "cividis", lambda a: a),
    FieldSpec("current_density", "current_density_A_m2", "current density", "mA cm⁻²", "inferno",
              lambda a: _magnitude(a) * 0.1),
    FieldSpec("li_fraction", "li_fraction", "Li filling", "", "Blues", lambda a: a),
    FieldSpec("material", "material", "material", "", "tab10", lambda a: a, categorical=True),
)}


def field_spec(name: str) -> FieldSpec:
    """The field called ``name``; InputError (exit 2 in the CLI) for an unknown one."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    key = {"vm": "von_mises", "von_mises_stress": "von_mises", "u": "displacement", "phi": "potential",
           "current": "current_density", "mat": "material"}.get(key, key)
    if key not in FIELDS:
        raise InputError("--field", f"unknown field '{name}' (available: {', '.join(FIELDS)})")
    return FIELDS[key]


@lru_cache(maxsize=None)
def lut(cmap: str) -> np.ndarray:
    """256 × 3 uint8 lookup table of a matplotlib colour map."""
    from matplotlib import colormaps

    cm = colormaps[cmap]
    table = cm(np.linspace(0.0, 1.0, 256))[:, :3]
    return np.ascontiguousarray(np.round(table * 255).astype(np.uint8))


def material_colors(n: int) -> np.ndarray:
    """(n + 1) × 3 uint8 colours for material ids 0..n (0, void, is unused)."""
    from matplotlib import colormaps

    cm = colormaps["tab10"]
    cols = [(0, 0, 0)] + [tuple(int(round(255 * c)) for c in cm(i % 10)[:3]) for i in range(n)]
    return np.array(cols, dtype=np.uint8)


def value_range(spec: FieldSpec, values: np.ndarray, mask: np.ndarray | None = None) -> tuple[float, float]:
    """Colour range of ``values`` (over ``mask``): fixed, symmetric about 0, or min..max."""
    if spec.fixed is not None:
        return spec.fixed
    v = values[mask] if mask is not None else values
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 0.0, 1.0
    lo, hi = float(v.min()), float(v.max())
    if spec.symmetric:
        m = max(abs(lo), abs(hi)) or 1.0
        return -m, m
    if spec.name in ("von_mises", "displacement", "current_density"):
        lo = 0.0
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0) * 1e-3 + 1e-12
    return lo, hi


def colorize(values: np.ndarray, lo: float, hi: float, cmap: str) -> np.ndarray:
    """Map values onto a colour map: (N,) → (N, 3) uint8. Non-finite values map to the low end."""
    table = lut(cmap)
    t = (np.nan_to_num(values, nan=lo, posinf=hi, neginf=lo) - lo) / (hi - lo)
    idx = np.clip((t * 255.0 + 0.5).astype(np.int64), 0, 255)
    return table[idx]
