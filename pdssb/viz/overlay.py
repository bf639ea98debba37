"""Frame annotations drawn into a NumPy image: title, on-screen text, legend, colour bar, scale bar.

The annotations are rasterised with Pillow (DejaVu Sans from matplotlib's data, so µ, σ and ⁻²
render) into the frame's background image; both renderers (GGUI and software) use that image, so
they show the same annotations.

:func:`layout_frame` places everything from the measured size of each text: the numbers, notes and
crack legend in a left column, the colour bar with its labels in a right column, the title across
the top, and the field image in the box between them (``Layout.image_box``), so no text runs into
the image whatever the frame size or the numbers' width. The scale bar goes under the image.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from .colormaps import FieldSpec, lut, material_colors

__all__ = ["Annotations", "BACKGROUND", "Layout", "Text", "draw_overlay", "layout_frame", "nice_length", "scale_bar"]

BACKGROUND = (18, 18, 24)
FOREGROUND = (235, 235, 235)
MUTED = (160, 160, 170)

Box = tuple[int, int, int, int]  # (x0, y0, x1, y1), pixels, top-left origin
RGB = tuple[int, int, int]


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
class Annotations:
    """What the annotations say: the layout is computed from these texts."""

    title: str
    lines: tuple[str, ...]  # on-screen numbers; the first (the time) in a larger font
    spec: FieldSpec
    lo: float
    hi: float
    material_names: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # muted lines under the numbers (camera, crack view, clip)
    legend: tuple[tuple[str, RGB], ...] = ()  # line samples: crack faces, Li-filled cracks


@dataclass(frozen=True)
class Text:
    text: str
    xy: tuple[int, int]
    size: int  # font size, pixels
    fill: RGB

    @property
    def box(self) -> Box:
        x0, y0, x1, y1 = font(self.size).getbbox(self.text)
        return self.xy[0] + x0, self.xy[1] + y0, self.xy[0] + x1, self.xy[1] + y1


@dataclass(frozen=True)
class Layout:
    """Where everything goes in a W × H frame."""

    width: int
    height: int
    unit: int  # base font size, pixels
    texts: tuple[Text, ...]
    swatches: tuple[tuple[Box, RGB], ...]  # legend line samples and material colour boxes
    image_box: Box
    colorbar_box: Box | None  # None for a categorical field (material swatches instead)


def _unit(width: int, height: int) -> int:
    return max(7, int(round(min(height / 38, width / 60))))


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e4 or a < 1e-3:
        return f"{v:.2e}"
    return f"{v:.4g}"


def _right(box_list: Sequence[Box]) -> int:
    return max((b[2] for b in box_list), default=0)


def layout_frame(width: int, height: int, ann: Annotations, unit: int | None = None) -> Layout:
    """Place the annotations of ``ann`` and the image box between them (see the module docstring).

    Text that would leave the image less than half the frame's width is set smaller (down to 7 px)."""
    u = unit or _unit(width, height)
    big, small = int(1.25 * u), u
    texts: list[Text] = [Text(ann.title, (int(0.6 * u), int(0.6 * u)), big, FOREGROUND)]
    swatches: list[tuple[Box, RGB]] = []
    # left column: numbers, notes, legend
    left: list[Text] = []
    y = int(3.2 * u)
    for i, line in enumerate(ann.lines):
        left.append(Text(line, (int(0.6 * u), y), big if i == 0 else small, FOREGROUND if i == 0 else MUTED))
        y += int((1.7 if i == 0 else 1.45) * u)
    y += int(0.5 * u)
    for note in ann.notes:
        left.append(Text(note, (int(0.6 * u), y), small, MUTED))
        y += int(1.45 * u)
    if ann.legend:
        y += int(0.5 * u)
    for label, rgb in ann.legend:
        x = int(0.6 * u)
        mid = y + int(0.6 * u)
        swatches.append(((x, mid - max(1, u // 6), x + int(1.6 * u), mid + max(1, u // 6)), rgb))
        left.append(Text(label, (x + int(2.1 * u), y), small, FOREGROUND))
        y += int(1.45 * u)
    texts += left
    # right column: colour bar (or material swatches) with its labels and title
    bar_w = max(8, int(1.1 * u))
    y0, y1 = int(5.0 * u), int(height - 5.0 * u)
    if ann.spec.categorical:
        labels = list(ann.material_names or ["material"])
        label_w = max(font(small).getlength(t) for t in labels)
    else:
        ticks = [_fmt(ann.lo + t * (ann.hi - ann.lo)) for t in np.linspace(0.0, 1.0, 5)]
        label_w = max(font(small).getlength(t) for t in ticks)
    gap = 0.6 * u if not ann.spec.categorical else 0.5 * u
    x0 = int(min(width - 0.17 * width + 2.2 * u, width - 0.6 * u - bar_w - gap - label_w))
    x1 = x0 + bar_w
    right: list[Text] = []
    if ann.spec.categorical:
        cols = material_colors(max(1, len(labels)))
        for k, name in enumerate(labels):
            yy = y0 + k * int(1.6 * u)
            swatches.append(((x0, yy, x1, yy + u), tuple(int(c) for c in cols[k + 1])))
            right.append(Text(name, (x1 + int(0.5 * u), yy - 2), small, FOREGROUND))
        colorbar = None
    else:
        n = max(2, y1 - y0)
        for t, label in zip(np.linspace(0.0, 1.0, 5), ticks):
            yy = int(y0 + (1 - t) * (n - 1))
            right.append(Text(label, (x1 + int(0.6 * u), yy - int(0.6 * u)), small, FOREGROUND))
        colorbar = (x0, y0, x1, y1)
    title_w = font(small).getlength(ann.spec.title)
    label_x = int(min(x0 - 1.6 * u, width - title_w - 0.4 * u))
    right.append(Text(ann.spec.title, (label_x, y0 - int(2.4 * u)), small, FOREGROUND))
    texts += right
    # the image between the columns
    left_edge = max(int(0.24 * width), _right([t.box for t in left] + [b for b, _ in swatches if b[0] < x0]) + u)
    right_edge = min(int(width - 0.17 * width), min(label_x, x0) - u)
    if right_edge - left_edge < 0.5 * width and u > 7:
        return layout_frame(width, height, ann, max(7, int(0.85 * u)))
    image_box = (left_edge, int(2.6 * u), max(left_edge + 16, right_edge), int(height - 3.2 * u))
    return Layout(width, height, u, tuple(texts), tuple(swatches), image_box, colorbar)


def nice_length(target: float) -> float:
    """1, 2 or 5 × 10^k not above ``target`` (> 0), up to rounding (a quarter of 4 µm is 1 µm)."""
    if not target > 0 or not math.isfinite(target):
        return 0.0
    target *= 1 + 1e-9
    k = math.floor(math.log10(target))
    for m in (5, 2, 1):
        if m * 10**k <= target:
            return m * 10**k
    return 10**k


def scale_bar(layout: Layout, px_per_um: float | None, image_box: Box | None = None) -> tuple[Box, Text] | None:
    """The scale bar under the image (its box and its label), or None without a scale."""
    if not px_per_um or px_per_um <= 0:
        return None
    u = layout.unit
    bx0, by0, bx1, by1 = image_box or layout.image_box
    length_um = nice_length(0.25 * (bx1 - bx0) / px_per_um)
    if length_um <= 0:
        return None
    length_px = max(1, int(round(length_um * px_per_um)))
    yy = by1 + int(1.2 * u)
    label = Text(f"{length_um:g} µm", (bx0 + length_px + int(0.6 * u), yy - int(0.5 * u)), u, FOREGROUND)
    return (bx0, yy, bx0 + length_px, yy + max(2, u // 3)), label


def draw_overlay(img: np.ndarray, layout: Layout, ann: Annotations, px_per_um: float | None,
                 image_box: Box | None = None) -> np.ndarray:
    """Draw the annotations onto ``img`` (H × W × 3 uint8, modified and returned).

    ``image_box`` is the part of the layout's image box the picture fills (2D: the lattice keeps
    its aspect ratio); the scale bar starts at its left edge."""
    from PIL import Image, ImageDraw

    pil = Image.fromarray(img)
    d = ImageDraw.Draw(pil)
    for box, rgb in layout.swatches:
        d.rectangle(list(box), fill=rgb)
    if layout.colorbar_box is not None:
        x0, y0, x1, y1 = layout.colorbar_box
        n = max(2, y1 - y0)
        ramp = lut(ann.spec.cmap)[np.linspace(255, 0, n).astype(int)]
        bar = np.repeat(ramp[:, None, :], max(1, x1 - x0), axis=1)
        pil.paste(Image.fromarray(np.ascontiguousarray(bar)), (x0, y0))
        d.rectangle([x0 - 1, y0 - 1, x1, y0 + n], outline=MUTED)
        for t in np.linspace(0.0, 1.0, 5):
            yy = int(y0 + (1 - t) * (n - 1))
            d.line([x1, yy, x1 + int(0.4 * layout.unit), yy], fill=MUTED)
    bar = scale_bar(layout, px_per_um, image_box)
    texts = list(layout.texts)
    if bar is not None:
        d.rectangle(list(bar[0]), fill=FOREGROUND)
        texts.append(bar[1])
    for t in texts:
        d.text(t.xy, t.text, fill=t.fill, font=font(t.size))
    return np.asarray(pil).copy()
