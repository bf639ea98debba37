"""Physical constants and the unit grammar used at the edges (scene files, reports).

Inside pdssb everything is SI. People write and read micrometres, megapascals and mA cm⁻², so
a scene quantity is a string such as ``"0.05 um"``, ``"120 GPa"`` or ``"0.14 mA cm^-2"``.

The grammar is closed and evaluates nothing: a decimal number, then a product of unit factors
``<prefix><base>[^exponent]`` separated by spaces, ``*`` or ``·``, with at most one ``/`` after
which every factor's exponent is negated. Each base unit has a dimension vector over
(m, kg, s, A, K, mol); the parsed dimension must equal the one the field expects, so
``dx = "10 MPa"`` is refused with a sentence naming what was expected. Temperatures in °C are
the one affine unit and are handled explicitly. A general unit library (pint) was not used
because its string parser evaluates arithmetic expressions, which is more than untrusted scene
files should be able to ask for.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

FARADAY_C_PER_MOL = 96485.33212  # CODATA 2018
GAS_CONSTANT_J_PER_MOL_K = 8.314462618  # CODATA 2018
ELEMENTARY_CHARGE_C = 1.602176634e-19  # exact (SI 2019)
BOLTZMANN_EV_PER_K = 8.617333262e-5  # CODATA 2018
BOLTZMANN_J_PER_K = 1.380649e-23  # exact (SI 2019)
AVOGADRO_PER_MOL = 6.02214076e23  # exact (SI 2019)
LI_MOLAR_VOLUME_M3_PER_MOL = 13.02e-6  # Ω_Li = 13.02 cm³ mol⁻¹ (bcc Li, 0.534 g cm⁻³, 6.94 g mol⁻¹)

# dimension vectors over (m, kg, s, A, K, mol)
_M, _KG, _S, _A, _K, _MOL = (tuple(int(i == j) for j in range(6)) for i in range(6))


def _dim(**powers: float) -> tuple[float, ...]:
    names = ("m", "kg", "s", "A", "K", "mol")
    return tuple(float(powers.get(n, 0)) for n in names)


_BASE: dict[str, tuple[float, tuple[float, ...]]] = {
    "m": (1.0, _dim(m=1)),
    "g": (1e-3, _dim(kg=1)),
    "s": (1.0, _dim(s=1)),
    "min": (60.0, _dim(s=1)),
    "h": (3600.0, _dim(s=1)),
    "A": (1.0, _dim(A=1)),
    "K": (1.0, _dim(K=1)),
    "mol": (1.0, _dim(mol=1)),
    "Pa": (1.0, _dim(kg=1, m=-1, s=-2)),
    "N": (1.0, _dim(kg=1, m=1, s=-2)),
    "J": (1.0, _dim(kg=1, m=2, s=-2)),
    "W": (1.0, _dim(kg=1, m=2, s=-3)),
    "V": (1.0, _dim(kg=1, m=2, s=-3, A=-1)),
    "S": (1.0, _dim(kg=-1, m=-2, s=3, A=2)),
    "C": (1.0, _dim(A=1, s=1)),
    "eV": (ELEMENTARY_CHARGE_C, _dim(kg=1, m=2, s=-2)),
    "Ah": (3600.0, _dim(A=1, s=1)),
}
_PREFIX = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "c": 1e-2, "k": 1e3, "M": 1e6, "G": 1e9}

#: what each kind of quantity means, as a dimension vector, with an example for error messages
KINDS: dict[str, tuple[tuple[float, ...], str]] = {
    "length": (_dim(m=1), "um"),
    "pressure": (_dim(kg=1, m=-1, s=-2), "MPa"),
    "energy_per_area": (_dim(kg=1, s=-2), "J m^-2"),
    "toughness": (_dim(kg=1, m=-0.5, s=-2), "MPa m^0.5"),
    "time": (_dim(s=1), "s"),
    "velocity": (_dim(m=1, s=-1), "um/s"),
    "density": (_dim(kg=1, m=-3), "g cm^-3"),
    "conductivity": (_dim(kg=-1, m=-3, s=3, A=2), "S m^-1"),
    "current_density": (_dim(A=1, m=-2), "mA cm^-2"),
    "current": (_dim(A=1), "mA"),
    "voltage": (_dim(kg=1, m=2, s=-3, A=-1), "V"),
    "molar_volume": (_dim(m=3, mol=-1), "cm^3 mol^-1"),
    "energy": (_dim(kg=1, m=2, s=-2), "eV"),
    "molar_energy": (_dim(kg=1, m=2, s=-2, mol=-1), "kJ mol^-1"),
    "charge": (_dim(A=1, s=1), "mAh"),
    "area_resistance": (_dim(kg=1, m=4, s=-3, A=-2), "Ohm cm^2"),
    "concentration": (_dim(mol=1, m=-3), "mol m^-3"),
    "diffusivity": (_dim(m=2, s=-1), "m^2 s^-1"),
}

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_QUANTITY = re.compile(rf"^\s*({_NUMBER})\s*(.*?)\s*$")
_FACTOR = re.compile(r"^([A-Za-z]+)(?:\^\(?([-+]?\d+(?:\.\d+)?(?::\d+)?)\)?)?$")
_SUPERSCRIPT = str.maketrans({"⁻": "-", "⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4", "½": "0.5"})
_MAX_TEXT = 64


class UnitError(ValueError):
    """A quantity string that does not parse, or parses to the wrong dimension."""


@dataclass(frozen=True)
class Unit:
    scale: float  # multiply a number in this unit by scale to get SI
    dim: tuple[float, ...]


def _normalise(text: str) -> str:
    t = text.replace("µ", "u").replace("μ", "u").replace("·", " ").replace("*", " ")
    t = t.replace("Ω", "Ohm").replace("√m", "m^0.5")
    t = re.sub(r"([A-Za-z])([⁻⁰¹²³⁴]+)", lambda mt: mt.group(1) + "^" + mt.group(2), t)
    t = re.sub(r"\^\(([-+]?\d+)/(\d+)\)", r"^\1:\2", t)  # m^(1/2): not a division
    return t.translate(_SUPERSCRIPT)


def _base_unit(token: str) -> Unit:
    if token == "Ohm":
        return Unit(1.0, _dim(kg=1, m=2, s=-3, A=-2))
    if token in _BASE:
        scale, dim = _BASE[token]
        return Unit(scale, dim)
    if len(token) > 1 and token[0] in _PREFIX:
        rest = token[1:]
        if rest == "Ohm":
            return Unit(_PREFIX[token[0]], _base_unit("Ohm").dim)
        if rest in _BASE:
            scale, dim = _BASE[rest]
            return Unit(_PREFIX[token[0]] * scale, dim)
    raise UnitError(f"unknown unit '{token}'")


def parse_unit(text: str) -> Unit:
    """Parse a unit expression such as ``mA cm^-2`` or ``J/m^2`` into its SI scale and dimension."""
    t = _normalise(text).strip()
    if not t:
        raise UnitError("missing unit")
    if t.count("/") > 1:
        raise UnitError(f"unit '{text}' has more than one '/'")
    num, _, den = t.partition("/")
    scale, dim = 1.0, [0.0] * 6
    for part, sign in ((num, 1.0), (den, -1.0)):
        for tok in part.split():
            if tok == "1" and sign > 0:
                continue
            mt = _FACTOR.match(tok)
            if not mt:
                raise UnitError(f"cannot read unit factor '{tok}'")
            base = _base_unit(mt.group(1))
            exp_text = mt.group(2) or "1"
            if ":" in exp_text:
                a, b = exp_text.split(":")
                exp = float(a) / float(b)
            else:
                exp = float(exp_text)
            exp *= sign
            scale *= base.scale**exp
            dim = [d + exp * e for d, e in zip(dim, base.dim)]
    return Unit(scale, tuple(dim))


def parse_quantity(value: object, kind: str) -> float:
    """Turn ``"0.05 um"`` (or a bare number for dimensionless kinds) into an SI float.

    Raises UnitError with a sentence that names the expected unit when the dimension is wrong.
    """
    if kind == "dimensionless":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UnitError(f"expected a plain number, got {value!r}")
        out = float(value)
    else:
        expected, example = KINDS[kind]
        if isinstance(value, bool) or isinstance(value, (int, float)):
            raise UnitError(f"needs a unit, e.g. '{value} {example}'")
        if not isinstance(value, str):
            raise UnitError(f"expected a quantity string such as '1 {example}', got {type(value).__name__}")
        if len(value) > _MAX_TEXT:
            raise UnitError(f"quantity string longer than {_MAX_TEXT} characters")
        mt = _QUANTITY.match(value)
        if not mt:
            raise UnitError(f"cannot read quantity '{value}' (expected a number and a unit, e.g. '1 {example}')")
        number = float(mt.group(1))
        unit_text = mt.group(2)
        if kind == "temperature" or unit_text in ("degC", "°C", "C°"):
            raise UnitError("temperatures are parsed by parse_temperature")
        unit = parse_unit(unit_text) if unit_text else None
        if unit is None:
            raise UnitError(f"needs a unit, e.g. '{number:g} {example}'")
        if any(abs(a - b) > 1e-9 for a, b in zip(unit.dim, expected)):
            raise UnitError(f"'{value}' is not a {kind.replace('_', ' ')} (expected a unit like {example})")
        out = number * unit.scale
    if not math.isfinite(out):
        raise UnitError(f"{value!r} is not a finite number")
    return out


def parse_temperature(value: object) -> float:
    """Temperature in kelvin from ``"300 K"`` or ``"25 degC"`` / ``"25 °C"``."""
    if isinstance(value, bool) or not isinstance(value, str) or len(value) > _MAX_TEXT:
        raise UnitError("needs a temperature such as '300 K' or '25 degC'")
    mt = _QUANTITY.match(value)
    if not mt:
        raise UnitError(f"cannot read temperature '{value}'")
    number, unit = float(mt.group(1)), mt.group(2).strip()
    if unit == "K":
        out = number
    elif unit in ("degC", "°C"):
        out = number + 273.15
    else:
        raise UnitError(f"'{value}' is not a temperature (expected K or degC)")
    if not math.isfinite(out):
        raise UnitError(f"{value!r} is not a finite number")
    return out


def parse_activation_energy(value: object) -> float:
    """An activation energy per particle in eV, from ``"0.40 eV"`` (any energy: eV, meV, J) or a molar
    energy such as ``"38.6 kJ mol^-1"`` or ``"38.6 kJ/mol"`` (divided by N_A e: 1 eV = 96.485 kJ mol⁻¹).

    eV is the working unit because Arrhenius factors use k_B in eV K⁻¹; it is written back as "x eV".
    """
    if isinstance(value, bool) or not isinstance(value, str):
        raise UnitError("needs an activation energy such as '0.40 eV' or '38.6 kJ mol^-1'")
    try:
        return parse_quantity(value, "energy") / ELEMENTARY_CHARGE_C
    except UnitError:
        pass
    try:
        return parse_quantity(value, "molar_energy") / (AVOGADRO_PER_MOL * ELEMENTARY_CHARGE_C)
    except UnitError:
        raise UnitError(f"'{value}' is not an activation energy (expected eV per particle or kJ mol^-1)") from None


def format_quantity(value_si: float, unit: str) -> str:
    """SI value → readable string in ``unit`` (the inverse of parse_quantity), exact to 12 digits."""
    if unit == "K":
        return f"{value_si:.12g} K"
    return f"{value_si / parse_unit(unit).scale:.12g} {unit}"
