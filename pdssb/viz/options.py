"""What a frame should show, whichever backend draws it: field, style, crack view, clip, camera, size.

:class:`FrameOptions` is shared by the GGUI renderer (:mod:`pdssb.viz.frame`) and the software
renderer (:mod:`pdssb.viz.software`); the ``parse_*`` functions turn command-line text into it and
refuse bad text with an :class:`~pdssb.errors.InputError` naming the option.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from ..errors import InputError
from .colormaps import FieldSpec, field_spec

__all__ = ["FrameOptions", "RENDERERS", "STYLES", "parse_camera", "parse_clip", "parse_resolution"]

#: ``--renderer``: GGUI when Vulkan starts, else software (auto); or one of them explicitly
RENDERERS = ("auto", "software", "ggui")
#: ``--style``: the broken bonds drawn as crack faces over a smooth field, or one square/sphere per site
STYLES = ("cracks", "sites")

CAMERAS = {"iso": (-60.0, 25.0), "front": (-90.0, 0.0), "side": (0.0, 0.0), "top": (-90.0, 89.0)}


def parse_camera(text: str | None) -> tuple[float, float, float]:
    """'iso', 'front', 'side', 'top' or 'AZ,EL[,ZOOM]' (degrees) → (azimuth, elevation, zoom)."""
    t = (text or "iso").strip().lower()
    if t in CAMERAS:
        return (*CAMERAS[t], 1.0)
    parts = t.split(",")
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        vals = []
    if len(vals) not in (2, 3) or not all(math.isfinite(v) for v in vals) or (len(vals) == 3 and vals[2] <= 0):
        raise InputError("--camera", f"'{text}' is not iso, front, side, top or AZ,EL[,ZOOM] in degrees")
    return vals[0], max(-89.0, min(89.0, vals[1])), vals[2] if len(vals) == 3 else 1.0


_CLIP = re.compile(r"^\s*([xyz])\s*([<>])\s*([0-9.eE+-]+)\s*$")


def parse_clip(text: str | None, dim: int | None = None) -> tuple[int, str, float] | None:
    """'x<0.5' keeps sites whose x lies in the lower half of the box; 'z>0.3' the upper 70 %."""
    if text is None or text.strip().lower() in ("", "none", "off"):
        return None
    m = _CLIP.match(text)
    if not m:
        raise InputError("--clip", f"'{text}' is not AXIS<FRACTION or AXIS>FRACTION (e.g. y<0.5)")
    axis, side, frac = "xyz".index(m.group(1)), m.group(2), float(m.group(3))
    if not 0.0 <= frac <= 1.0:
        raise InputError("--clip", f"fraction {frac} must lie between 0 and 1")
    if dim is not None and axis >= dim:
        raise InputError("--clip", f"axis '{m.group(1)}' does not exist in a {dim}D scene")
    return axis, side, frac


def parse_resolution(text: str) -> tuple[int, int]:
    m = re.match(r"^\s*(\d+)\s*[x×,]\s*(\d+)\s*$", text or "")
    if not m:
        raise InputError("--resolution", f"'{text}' is not WIDTHxHEIGHT (e.g. 1280x720)")
    return int(m.group(1)), int(m.group(2))


@dataclass(frozen=True)
class FrameOptions:
    field: str = "damage"
    style: str = "cracks"  # see STYLES; run folders without bond bits fall back to "sites"
    crack_only: float | None = None  # damage threshold of the crack view (None: everything)
    clip: tuple[int, str, float] | None = None  # (axis, '<' or '>', fraction of the box)
    camera: tuple[float, float, float] = (-60.0, 25.0, 1.0)  # azimuth, elevation (deg), zoom
    resolution: tuple[int, int] = (1280, 720)
    value_range: tuple[float, float] | None = None  # colour range (None: from the snapshot)
    overlay: bool = True

    @property
    def spec(self) -> FieldSpec:
        return field_spec(self.field)

    def validated(self) -> FrameOptions:
        spec = self.spec  # raises for an unknown field
        w, h = self.resolution
        if not (64 <= w <= 8192 and 64 <= h <= 8192):
            raise InputError("--resolution", f"{w}x{h} is out of range (64..8192 per side)")
        if self.crack_only is not None and not 0.0 <= self.crack_only <= 1.0:
            raise InputError("--crack-only", "the damage threshold must lie between 0 and 1")
        if self.style not in STYLES:
            raise InputError("--style", f"unknown style '{self.style}' (use {' or '.join(STYLES)})")
        return replace(self, field=spec.name)
