"""The one drawing code path of the viewer and of headless rendering (Taichi GGUI, Vulkan).

:class:`Renderer` owns a GGUI window (shown for the live viewer, ``show_window=False`` for
headless rendering) and draws a :class:`~pdssb.viz.data.SnapshotData` with
:class:`FrameOptions`:

* 2D: the lattice is an image, one pixel per site, scaled to the frame by nearest-neighbour
  sampling; the annotations (scene name, time and the on-screen numbers, colour bar with units,
  scale bar in µm) are drawn around it; the whole frame goes to GGUI with ``canvas.set_image``.
* 3D: sites are GGUI particles coloured by the field (void sites are not drawn). A clip plane
  hides the sites on one side; the crack view draws sites with damage ≥ a threshold in colour and
  the body's outer surface as small faded grey points. The annotations are the canvas background
  (``set_image``), the particle scene is drawn over it (``canvas.scene``).

``draw(..., read=True)`` reads GGUI's image buffer back as an H × W × 3 uint8 array (what a
screenshot or a video frame is).

Vulkan: GGUI needs a Vulkan driver (on a CPU-only Linux machine: Debian's
``mesa-vulkan-drivers`` and ``libvulkan1``, i.e. lavapipe). Creating the window without one raises
:class:`VulkanUnavailable`, an :class:`~pdssb.errors.InputError`, so the CLI prints one line
naming the packages and exits with code 2. GGUI works with Taichi's CPU and CUDA backends, so
:func:`pdssb.backend.init` is used as everywhere else.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes.util
import math
import os
import re
import sys
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from ..errors import InputError
from .colormaps import FieldSpec, colorize, field_spec, material_colors, value_range
from .data import SnapshotData, info_lines
from .overlay import BACKGROUND, Layout, draw_overlay

__all__ = ["FrameOptions", "Renderer", "VulkanUnavailable", "parse_camera", "parse_clip", "vulkan_problem"]

VULKAN_HINT = ("Vulkan is not available for Taichi GGUI{detail}; install a Vulkan loader and driver "
               "(Debian/Ubuntu: apt-get install mesa-vulkan-drivers libvulkan1)")
VOID_2D = (40, 40, 50)  # void sites in 2D images
FADED = (70, 70, 80)  # intact sites in the 2D crack view are blended towards this
FOV_DEG = 45.0  # GGUI's default vertical field of view


class VulkanUnavailable(InputError):
    def __init__(self, detail: str = ""):
        super().__init__("", VULKAN_HINT.format(detail=f" ({detail})" if detail else ""))


def vulkan_problem() -> str | None:
    """Why Vulkan cannot work here, or None when the loader library is present."""
    if ctypes.util.find_library("vulkan") is None and not os.path.exists("/usr/lib/x86_64-linux-gnu/libvulkan.so.1"):
        return "libvulkan not found"
    return None


@contextlib.contextmanager
def _quiet_stderr():
    """Silence C++ messages written straight to fd 2 (e.g. 'RHI Error: ...')."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, ValueError, OSError):
        yield
        return
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def _destroy_windows() -> None:
    """Close GGUI windows at exit from a scratch folder: Dear ImGui would leave imgui.ini in the cwd."""
    import shutil
    import tempfile

    cwd = os.getcwd()
    scratch = tempfile.mkdtemp(prefix="pdssb-gui-")
    try:
        os.chdir(scratch)
        for w in Renderer._windows.values():
            try:
                w.destroy()
            except Exception:  # noqa: BLE001 - the runtime may already be gone
                pass
        Renderer._windows.clear()
    finally:
        os.chdir(cwd)
        shutil.rmtree(scratch, ignore_errors=True)


def ensure_backend(arch: str = "auto", precision: str = "f32") -> None:
    """Initialise Taichi for drawing unless a run already did (a second init would reset it)."""
    from .. import backend

    if not backend.current():
        backend.init(arch, precision)


# ---------------------------------------------------------------- options
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


@dataclass(frozen=True)
class FrameOptions:
    field: str = "damage"
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
        return replace(self, field=spec.name)


def parse_resolution(text: str) -> tuple[int, int]:
    m = re.match(r"^\s*(\d+)\s*[x×,]\s*(\d+)\s*$", text or "")
    if not m:
        raise InputError("--resolution", f"'{text}' is not WIDTHxHEIGHT (e.g. 1280x720)")
    return int(m.group(1)), int(m.group(2))


# ---------------------------------------------------------------- geometry helpers
def clip_mask(snap: SnapshotData, clip) -> np.ndarray | None:
    if clip is None:
        return None
    axis, side, frac = clip
    if axis >= snap.dim:
        raise InputError("--clip", f"axis '{'xyz'[axis]}' does not exist in a {snap.dim}D scene")
    n = snap.shape[axis]
    idx = np.indices(snap.shape)[axis].ravel()
    cut = frac * n
    return (idx + 0.5 < cut) if side == "<" else (idx + 0.5 > cut)


def surface_mask(solid: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Solid sites with a void (or outside) neighbour along an axis."""
    g = solid.reshape(shape)
    pad = np.pad(g, 1, constant_values=False)
    inner = np.ones_like(g)
    for a in range(g.ndim):
        lo = [slice(1, -1)] * g.ndim
        hi = [slice(1, -1)] * g.ndim
        lo[a] = slice(0, -2)
        hi[a] = slice(2, None)
        inner &= pad[tuple(lo)] & pad[tuple(hi)]
    return (g & ~inner).ravel()


class Renderer:
    """A GGUI window (visible or offscreen) that draws snapshots. Reuse one per process."""

    _windows: dict = {}

    def __init__(self, resolution: tuple[int, int] = (1280, 720), show_window: bool = False,
                 name: str = "pdssb"):
        from .. import backend

        ensure_backend()
        problem = vulkan_problem()
        if problem:
            raise VulkanUnavailable(problem)
        self.ti = backend.import_taichi()
        self.resolution = (int(resolution[0]), int(resolution[1]))
        self.show_window = show_window
        key = (self.resolution, show_window, backend.current().get("key"))
        if key in Renderer._windows:  # reuse: one offscreen window per size and Taichi runtime
            self.window = Renderer._windows[key]
        else:
            # one GGUI window per process at a time: with two alive (say a 2D and a 3D size) Taichi
            # 1.7 crashes when the process exits, so the old one goes first
            _destroy_windows()
            try:
                with _quiet_stderr():
                    self.window = self.ti.ui.Window(name, self.resolution, vsync=False, show_window=show_window)
            except RuntimeError as e:
                raise VulkanUnavailable(str(e).splitlines()[0] if str(e) else "") from None
            if not Renderer._windows:
                atexit.register(_destroy_windows)
                backend.on_reinit(_destroy_windows)
            Renderer._windows[key] = self.window
        self.canvas = self.window.get_canvas()
        self.scene = self.window.get_scene()
        self.camera = self.ti.ui.Camera()
        self.layout = Layout(*self.resolution)
        self._quiet_once = False

    # ------------------------------------------------------------ drawing
    def draw(self, snap: SnapshotData, opts: FrameOptions, read: bool = True) -> np.ndarray | None:
        """Draw one frame; return it as H × W × 3 uint8 when ``read``."""
        spec = opts.spec
        values = spec.values(snap.fields)
        n = int(np.prod(snap.shape))
        if values.shape[0] != n:
            raise InputError("snapshot", f"field has {values.shape[0]} values for {n} sites")
        visible = snap.solid.copy()
        cm = clip_mask(snap, opts.clip)
        if cm is not None:
            visible &= cm
        lo, hi = opts.value_range or value_range(spec, values, visible if visible.any() else None)
        if spec.categorical:
            pal = material_colors(max(len(snap.material_names), int(values.max(initial=0))))
            colors = pal[np.clip(values.astype(np.int64), 0, len(pal) - 1)]
        else:
            colors = colorize(values, lo, hi, spec.cmap)
        cracked = None
        if opts.crack_only is not None:
            dmg = np.asarray(snap.fields.get("damage", np.zeros(n)), dtype=np.float64)
            cracked = dmg >= opts.crack_only
        W, H = self.resolution
        frame = np.empty((H, W, 3), dtype=np.uint8)
        frame[:] = BACKGROUND
        if snap.dim == 2:
            px_per_um = self._paint_2d(frame, snap, colors, visible, cracked)
        else:
            px_per_um = self._camera_3d(snap, opts)
        if opts.overlay:
            lines = info_lines(snap.info, snap.time)
            note = "scale bar at the body centre" if snap.dim == 3 else ""
            if opts.crack_only is not None:
                note = (note + "; " if note else "") + f"crack view: damage ≥ {opts.crack_only:g}"
            if opts.clip is not None:
                axis, side, frac = opts.clip
                note = (note + "; " if note else "") + f"clip {'xyz'[axis]} {side} {frac:g}"
            frame = draw_overlay(frame, self.layout, snap.title or "pdssb", lines, spec, lo, hi, px_per_um,
                                 snap.material_names, note, self._image_box if snap.dim == 2 else None)
        self.canvas.set_image(np.ascontiguousarray(frame.transpose(1, 0, 2)[:, ::-1]))
        if snap.dim == 3:
            self._particles_3d(snap, colors, visible, cracked)
        if not read:
            return None
        buf = self.window.get_image_buffer_as_numpy()  # (W, H, 4) float, y up; read once per frame
        rgb = (buf[:, ::-1, :3] * 255.0 + 0.5).astype(np.uint8)  # values lie in [0, 1]
        return np.ascontiguousarray(rgb.transpose(1, 0, 2))

    def _paint_2d(self, frame, snap, colors, visible, cracked) -> float:
        nx, ny = snap.shape
        cols = colors.copy()
        if cracked is not None:
            faded = ~cracked
            cols[faded] = (0.3 * cols[faded] + 0.7 * np.array(FADED)).astype(np.uint8)
        cols[~visible] = VOID_2D
        grid = cols.reshape(nx, ny, 3)
        x0, y0, x1, y1 = self.layout.image_box
        s = min((x1 - x0) / nx, (y1 - y0) / ny)
        tw, th = max(1, int(nx * s)), max(1, int(ny * s))
        ix = np.minimum((np.arange(tw) / s).astype(np.int64), nx - 1)
        iy = np.minimum((np.arange(th) / s).astype(np.int64), ny - 1)[::-1]  # top row = largest y
        ox = x0 + ((x1 - x0) - tw) // 2
        oy = y0 + ((y1 - y0) - th) // 2
        frame[oy:oy + th, ox:ox + tw] = grid[np.ix_(ix, iy)].transpose(1, 0, 2)
        self.map_2d = (ox, oy, s, th)
        self._image_box = (ox, oy, ox + tw, oy + th)
        return s / (snap.dx * 1e6)

    def pixel_of(self, i: int, j: int) -> tuple[int, int]:
        """(row, column) of the centre of 2D site (i, j) in the last frame drawn."""
        ox, oy, s, th = self.map_2d
        return int(oy + th - 1 - (j + 0.5) * s), int(ox + (i + 0.5) * s)

    def _camera_3d(self, snap, opts) -> float:
        az, el, zoom = opts.camera
        lo = np.array(snap.origin) * 1e6
        ext = snap.extent * 1e6
        c = lo + 0.5 * ext
        radius = 0.5 * float(np.linalg.norm(ext))
        dist = radius / math.sin(math.radians(FOV_DEG / 2)) * 1.15 / zoom
        a, e = math.radians(az), math.radians(el)
        eye = c + dist * np.array([math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e)])
        cam = self.camera
        cam.position(*eye)
        cam.lookat(*c)
        cam.up(0.0, 0.0, 1.0)
        cam.fov(FOV_DEG)
        cam.z_near(max(1e-3, 0.01 * dist))
        cam.z_far(10 * dist + 10 * radius)
        self._eye = eye
        H = self.resolution[1]
        return H / (2 * dist * math.tan(math.radians(FOV_DEG / 2)))

    def _particles_3d(self, snap, colors, visible, cracked) -> None:
        r = 0.5 * snap.dx * 1e6
        pos = snap.positions() * 1e6
        if cracked is not None:
            shell = surface_mask(visible, snap.shape) & ~cracked
            show = visible & cracked
            sel = np.concatenate([np.nonzero(show)[0], np.nonzero(shell)[0]])
            rgb = np.concatenate([colors[show].astype(np.float32) / 255,
                                  np.tile(np.float32([0.45, 0.45, 0.5]), (int(shell.sum()), 1))])
            rad = np.concatenate([np.full(int(show.sum()), r, np.float32), np.full(int(shell.sum()), 0.3 * r, np.float32)])
        else:
            sel = np.nonzero(visible)[0]
            rgb = colors[sel].astype(np.float32) / 255
            rad = None
        self.scene.set_camera(self.camera)
        self.scene.ambient_light((0.55, 0.55, 0.55))
        self.scene.point_light(pos=tuple(self._eye), color=(0.55, 0.55, 0.55))
        if len(sel):
            centers = np.ascontiguousarray(pos[sel], dtype=np.float32)
            rgb = np.ascontiguousarray(rgb, dtype=np.float32)
            if rad is None:
                self.scene.particles(centers, radius=r, per_vertex_color=rgb)
            else:
                self.scene.particles(centers, radius=r, per_vertex_color=rgb,
                                     per_vertex_radius=np.ascontiguousarray(rad))
        self.canvas.scene(self.scene)

    def show(self) -> None:
        self.window.show()
