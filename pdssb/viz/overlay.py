"""Frame annotations drawn into a NumPy image: title, on-screen text, colour bar, scale bar.

The annotations are rasterised with Pillow (DejaVu Sans from matplotlib's data, so µ, σ and ⁻²
render) into the frame's background image. The same image goes to GGUI's canvas in the viewer
and in headless rendering, so both show the same annotations.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from .colormaps import FieldSpec, lut, material_colors

BACKGROUND = (18, 18, 24)
FOREGROUND = (235, 235, 235)
MUTED = (160, 160, 170)


@lru_cache(maxsize=16)
def font(size: int):
    from PIL import ImageFont

    try:
        import matplotlib

        path = os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf")
        return ImageFont.truetype(path, size)
    except Exception:  # noqa: BLE001 - Pillow's own bitmap font still draws ASCII
        return ImageFont.load_default()


@dataclass(frozen=True)
class Layout:
    """Where things go in a W × H frame (pixel boxes, top-left origin, (x0, y0, x1, y1))."""

    width: int
    height: int

    @property
    def unit(self) -> int:  # base font size
        return max(10, int(round(min(self.height / 38, self.width / 60))))

    @property
    def image_box(self) -> tuple[int, int, int, int]:
        w, h, u = self.width, self.height, self.unit
        return (int(0.24 * w), int(2.6 * u), int(w - 0.17 * w), int(h - 3.2 * u))

    @property
    def colorbar_box(self) -> tuple[int, int, int, int]:
        w, h, u = self.width, self.height, self.unit
        x0 = int(w - 0.17 * w + 2.2 * u)
        return (x0, int(5.0 * u), x0 + max(8, int(1.1 * u)), int(h - 5.0 * u))


def nice_length(target: float) -> float:
    """1, 2 or 5 × 10^k not above ``target`` (> 0)."""
    if not target > 0 or not math.isfinite(target):
        return 0.0
    k = math.floor(math.log10(target))
    for m in (5, 2, 1):
        if m * 10**k <= target:
            return m * 10**k
    return 10**k


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e4 or a < 1e-3:
        return f"{v:.2e}"
    return f"{v:.4g}"


def draw_overlay(
    img: np.ndarray,
    layout: Layout,
    title: str,
    lines: Sequence[str],
    spec: FieldSpec,
    lo: float,
    hi: float,
    px_per_um: float | None,
    material_names: Sequence[str] = (),
    note: str = "",
    image_box: tuple[int, int, int, int] | None = None,
) -> np.ndarray:
    """Draw the annotations onto ``img`` (H × W × 3 uint8, modified and returned)."""
    from PIL import Image, ImageDraw

    pil = Image.fromarray(img)
    d = ImageDraw.Draw(pil)
    u = layout.unit
    big, small = font(int(1.25 * u)), font(u)
    # title (scene name) across the top
    d.text((int(0.6 * u), int(0.6 * u)), title, fill=FOREGROUND, font=big)
    # on-screen numbers in the left column
    y = int(3.2 * u)
    for i, line in enumerate(lines):
        d.text((int(0.6 * u), y), line, fill=FOREGROUND if i == 0 else MUTED, font=big if i == 0 else small)
        y += int((1.7 if i == 0 else 1.45) * u)
    if note:
        d.text((int(0.6 * u), layout.height - int(1.6 * u)), note, fill=MUTED, font=small)
    # colour bar on the right
    x0, y0, x1, y1 = layout.colorbar_box
    label_x = min(x0 - int(1.6 * u), layout.width - int(d.textlength(spec.title, font=small)) - int(0.4 * u))
    d.text((label_x, y0 - int(2.4 * u)), spec.title, fill=FOREGROUND, font=small)
    if spec.categorical:
        cols = material_colors(max(1, len(material_names)))
        for k, name in enumerate(material_names or ["material"]):
            yy = y0 + k * int(1.6 * u)
            d.rectangle([x0, yy, x1, yy + u], fill=tuple(int(c) for c in cols[k + 1]))
            d.text((x1 + int(0.5 * u), yy - 2), name, fill=FOREGROUND, font=small)
    else:
        n = max(2, y1 - y0)
        ramp = lut(spec.cmap)[np.linspace(255, 0, n).astype(int)]
        bar = np.repeat(ramp[:, None, :], max(1, x1 - x0), axis=1)
        pil.paste(Image.fromarray(np.ascontiguousarray(bar)), (x0, y0))
        d.rectangle([x0 - 1, y0 - 1, x1, y0 + n], outline=MUTED)
        for t in np.linspace(0.0, 1.0, 5):
            yy = int(y0 + (1 - t) * (n - 1))
            d.line([x1, yy, x1 + int(0.4 * u), yy], fill=MUTED)
            d.text((x1 + int(0.6 * u), yy - int(0.6 * u)), _fmt(lo + t * (hi - lo)), fill=FOREGROUND, font=small)
    # scale bar under the image area
    if px_per_um and px_per_um > 0:
        bx0, by0, bx1, by1 = image_box or layout.image_box
        length_um = nice_length(0.25 * (bx1 - bx0) / px_per_um)
        if length_um > 0:
            length_px = max(1, int(round(length_um * px_per_um)))
            yy = by1 + int(1.2 * u)
            d.rectangle([bx0, yy, bx0 + length_px, yy + max(2, u // 3)], fill=FOREGROUND)
            label = f"{length_um:g} µm"
            d.text((bx0 + length_px + int(0.6 * u), yy - int(0.5 * u)), label, fill=FOREGROUND, font=small)
    return np.asarray(pil).copy()
