"""The sweep file: a base scene and the parameters to vary; every case validated before a run.

A sweep file is TOML, read with the same size and nesting caps as a scene::

    scene = "base.toml"          # relative to the sweep file, inside its folder tree
    title = "current sweep"      # optional
    combine = "grid"             # "grid": every combination; "zip": the i-th values together

    [parameters]                 # dotted keys into the scene; list indices are numbers
    "electrochem.control.value" = ["0.1 V", "0.2 V"]
    "defects.0.aspect_ratio" = [0.5, 1.0, 2.0]

    [[cases]]                    # optional: extra cases, each a table of overrides
    "defects.0.type" = "semi_sphere"
    "defects.0.radius" = "1 um"

Each case is the base scene with its overrides applied, then validated by the schema and
resolved (physics checks, memory estimate) exactly as ``pdssb check`` would; the first invalid
case refuses the whole sweep, naming the case and its parameters. A case is identified by the
SHA-256 of its resolved scene (and the pdssb version): the name of its run folder.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..config.loader import format_validation_error, parse_scene_text, read_scene_file, set_dotted, validate_scene
from ..config.resolve import _safe_path, resolve
from ..errors import InputError
from ..io.manifest import _pdssb_version

MAX_CASES = 10_000
MAX_VALUES = 10_000
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]{0,63}(\.([A-Za-z_][A-Za-z0-9_\-]{0,63}|\d{1,6})){0,15}")


class SweepFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    scene: str = Field(min_length=1, max_length=400)
    title: str = Field(default="", max_length=200)
    combine: Literal["grid", "zip"] = "grid"
    parameters: dict[str, list[Any]] = Field(default_factory=dict, max_length=32)
    cases: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_CASES)

    @model_validator(mode="after")
    def _check(self):
        keys = list(self.parameters) + [k for case in self.cases for k in case]
        for key in keys:
            if not _KEY.fullmatch(key):
                raise ValueError(f"'{key[:80]}' is not a dotted scene key such as \"electrochem.control.value\"")
        for key, values in self.parameters.items():
            if not values:
                raise ValueError(f"parameters.{key} is an empty list")
            if len(values) > MAX_VALUES:
                raise ValueError(f"parameters.{key} has more than {MAX_VALUES} values")
        if not self.parameters and not self.cases:
            raise ValueError("give [parameters] to vary or [[cases]]")
        if self.combine == "zip" and len({len(v) for v in self.parameters.values()}) > 1:
            lengths = ", ".join(f"{k}: {len(v)}" for k, v in self.parameters.items())
            raise ValueError(f"combine = \"zip\" needs lists of equal length ({lengths})")
        n = self.n_parameter_cases()
        if n + len(self.cases) > MAX_CASES:
            raise ValueError(f"{n + len(self.cases)} cases; a sweep holds at most {MAX_CASES}")
        return self

    def n_parameter_cases(self) -> int:
        if not self.parameters:
            return 0
        if self.combine == "zip":
            return len(next(iter(self.parameters.values())))
        n = 1
        for values in self.parameters.values():
            n *= len(values)
        return n

    def overrides(self) -> list[dict[str, Any]]:
        """Every case as {dotted key: value}, parameter cases first, in a stable order."""
        out: list[dict[str, Any]] = []
        keys = list(self.parameters)
        if keys:
            rows = (zip(*self.parameters.values()) if self.combine == "zip"
                    else itertools.product(*self.parameters.values()))
            out += [dict(zip(keys, row)) for row in rows]
        out += [dict(case) for case in self.cases]
        return out


@dataclass
class Case:
    index: int
    params: dict[str, Any]
    text: str  # the case's scene as TOML (the base scene with the overrides), what the worker runs
    hash: str
    title: str
    sites: int


@dataclass
class Sweep:
    path: Path
    spec: SweepFile
    scene_path: Path
    cases: list[Case] = field(default_factory=list)

    @property
    def parameter_keys(self) -> list[str]:
        keys: list[str] = []
        for case in self.cases:
            keys += [k for k in case.params if k not in keys]
        return keys


def case_hash(resolved_scene) -> str:
    """SHA-256 (16 hex digits) of the resolved scene, every float exact, and the pdssb version."""
    canonical = json.dumps(resolved_scene.model_dump(mode="python"), sort_keys=True, default=repr)
    h = hashlib.sha256()
    h.update(canonical.encode("utf-8"))
    h.update(b"\0pdssb " + _pdssb_version().encode("utf-8"))
    return h.hexdigest()[:16]


def _describe(params: dict[str, Any]) -> str:
    text = ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in params.items())
    return text if len(text) <= 160 else text[:157] + "..."


def load_sweep(path: str | Path, precision: str | None = None) -> Sweep:
    """Read a sweep file and validate every case (schema and resolve); InputError names the first bad case."""
    p = Path(path)
    data = read_scene_file(p)  # same size / nesting / UTF-8 / TOML checks as a scene
    try:
        spec = SweepFile.model_validate(data)
    except ValidationError as e:
        err = format_validation_error(e)
        raise InputError(f"{p}: {err.where}" if err.where != "scene" else str(p), err.reason) from None
    scene_path = _safe_path(p.parent, spec.scene, f"{p}: scene")
    base = read_scene_file(scene_path)
    sweep = Sweep(p, spec, scene_path)
    for index, params in enumerate(spec.overrides()):
        label = f"{p}: case {index} ({_describe(params)})"
        data = copy.deepcopy(base)
        try:
            for key, value in params.items():
                set_dotted(data, key, value)
            try:
                text = tomli_w.dumps(data)
            except (TypeError, ValueError) as e:
                raise InputError("scene", f"cannot be written as TOML ({e})") from None
            scene = validate_scene(parse_scene_text(text, "scene"))
            setup = resolve(scene, scene_path.parent, precision)
        except InputError as e:
            raise InputError(label, str(e)) from None
        sweep.cases.append(Case(index, params, text, case_hash(setup.scene), scene.title,
                                setup.lattice.n_sites))
        del setup
    return sweep
