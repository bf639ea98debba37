"""``pdssb bench --viewer``: frames per second of the drawing code (offscreen, read back).

Two synthetic scenes: a 2D lattice of side² sites drawn as an image, and a 3D cube of about
``particles`` sites drawn as spheres. Each frame is a full ``FrameRenderer.draw`` (colour
mapping, annotations, rasterisation, read-back of the image), the cost of one video frame, with
the renderer :func:`~pdssb.viz.renderers.open_renderer` picks (GGUI when Vulkan starts).
"""

from __future__ import annotations

import time

import numpy as np

from .compose import FrameRenderer
from .renderers import open_renderer
from .data import SnapshotData
from .options import FrameOptions


def _synthetic(shape: tuple[int, ...], dx: float = 0.1e-6) -> SnapshotData:
    n = int(np.prod(shape))
    idx = np.indices(shape).reshape(len(shape), -1).T.astype(np.float64)
    c = (np.array(shape) - 1) / 2
    r = np.linalg.norm((idx - c) / np.array(shape), axis=1)
    fields = {
        "damage": np.clip(1.5 - 6 * r, 0, 1),
        "von_mises_Pa": 1e9 * np.exp(-8 * r),
        "material": np.ones(n, dtype=np.int32),
    }
    return SnapshotData(tuple(shape), dx, (0.0,) * len(shape), fields, 1.0, 1, "bench", ["LAGP"],
                        {"von_mises_max_MPa": 1000.0, "bonds_broken_total": 0})


def _time(renderer: FrameRenderer, snap: SnapshotData, opts: FrameOptions, frames: int) -> float:
    renderer.draw(snap, opts)  # warm-up: compiles the drawing kernels
    t0 = time.perf_counter()
    for _ in range(frames):
        renderer.draw(snap, opts)
    return frames / (time.perf_counter() - t0)


def viewer_bench(side: int = 500, particles: int = 1_000_000, frames_2d: int = 20, frames_3d: int = 3,
                 resolution: tuple[int, int] = (1280, 720), renderer: str = "auto") -> dict:
    from .. import backend

    drawer = open_renderer(renderer, resolution)
    out = dict(case="viewer", arch=backend.current().get("arch"), resolution=list(resolution), renderer=drawer.kind)
    s2 = _synthetic((side, side))
    out["fps_2d"] = _time(drawer, s2, FrameOptions(field="von_mises", resolution=resolution), frames_2d)
    out["sites_2d"] = side * side
    m = max(2, int(round(particles ** (1 / 3))))
    s3 = _synthetic((m, m, m))
    out["fps_3d"] = _time(drawer, s3, FrameOptions(field="von_mises", resolution=resolution), frames_3d)
    out["particles_3d"] = m**3
    out["fps_3d_crack_view"] = _time(drawer, s3, FrameOptions(field="damage", crack_only=0.5,
                                                                 resolution=resolution), frames_3d)
    return out
