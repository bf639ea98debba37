"""One frame-drawing interface, two backends: what a frame shows, and who draws it.

:class:`FrameRenderer` draws a :class:`~pdssb.viz.data.SnapshotData` with
:class:`~pdssb.viz.options.FrameOptions` into an H × W × 3 uint8 frame. Everything but the 3D
primitives is shared by both backends:

* :func:`plan_frame`: the field's values and colours, visible sites (void and clip plane), the
  colour range, the crack view's damaged sites, and, in the ``cracks`` style, the crack faces and
  Li-filled sites (:mod:`pdssb.viz.cracks`);
* the annotations and their layout (:mod:`pdssb.viz.overlay`);
* 2D: the lattice rasterised into the layout's image box by :func:`pdssb.viz.raster.field_2d`
  (bilinear field in the ``cracks`` style, one square per site in ``sites``), with the crack faces
  drawn over it as segments (white: open crack; cyan: Li-filled; with a dark edge);
* 3D: :class:`Camera` (fitted so the body's bounding sphere stays inside the image box) and
  :func:`geometry_3d`, the spheres and quads to draw.

Crack faces are the broken nearest-neighbour bonds' faces laid onto the local crack plane
(:class:`~pdssb.viz.cracks.CrackFaces`): segments in 2D, parallelograms in 3D.

Backends: :class:`~pdssb.viz.frame.GGUIRenderer` (Taichi GGUI, Vulkan; also the live window) and
:class:`~pdssb.viz.software.SoftwareRenderer` (Taichi kernels, no Vulkan);
:func:`pdssb.viz.renderers.open_renderer` picks one.

3D content by style: ``sites`` draws one sphere per visible site (the crack view: the sites with
damage ≥ T, and the body's surface as small grey points); ``cracks`` draws the crack surface as
quads, the Li-filled sites as cyan spheres, and the body's surface (the clipped body's,
so a clip plane shows a section) as small points in the field's colours (grey in the crack view).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import InputError
from .colormaps import FieldSpec, colorize, lut, material_colors, value_range
from .cracks import CrackFaces, crack_faces, li_filled_sites, lithium_ids
from .data import SnapshotData, info_lines
from .options import FrameOptions
from .overlay import BACKGROUND, Annotations, Layout, draw_overlay, layout_frame

__all__ = ["CRACK_RGB", "Camera", "ensure_backend", "FramePlan", "FrameRenderer", "LI_CRACK_RGB", "Geometry3D", "geometry_3d",
           "plan_frame"]

VOID_2D = (40, 40, 50)  # void sites in 2D images
FADED = (70, 70, 80)  # intact sites in the crack view are blended towards this
CRACK_RGB = (250, 250, 250)  # open crack faces
LI_CRACK_RGB = (0, 230, 230)  # Li-filled crack faces and sites
CASING_RGB = (25, 25, 32)  # the dark edge of 2D crack faces
SHELL_GREY = (115, 115, 128)  # the body's surface in the 3D crack view
FOV_DEG = 45.0  # vertical field of view (GGUI's default)
AMBIENT, DIFFUSE = 0.55, 0.55  # light: ambient + a light at the camera, as set in GGUI


def ensure_backend(arch: str = "auto", precision: str = "f32") -> None:
    """Initialise Taichi for drawing unless a run already did (a second init would reset it)."""
    from .. import backend

    if not backend.current():
        backend.init(arch, precision)


# ---------------------------------------------------------------- what the frame shows
@dataclass
class FramePlan:
    spec: FieldSpec
    values: np.ndarray  # (n,) display units
    colors: np.ndarray  # (n, 3) uint8
    visible: np.ndarray  # (n,) solid and inside the clip plane
    lo: float
    hi: float
    style: str  # "cracks" or "sites" (a snapshot without bond bits is drawn as sites)
    cracked: np.ndarray | None = None  # (n,) damage ≥ the crack-view threshold
    faces: CrackFaces | None = None
    li_sites: np.ndarray | None = None  # (n,) Li-filled sites
    has_lithium: bool = False


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


def plan_frame(snap: SnapshotData, opts: FrameOptions) -> FramePlan:
    spec = opts.spec
    values = spec.values(snap.fields)
    n = int(np.prod(snap.shape))
    if values.shape[0] != n:
        raise InputError("snapshot", f"field has {values.shape[0]} values for {n} sites")
    solid = snap.solid
    visible = solid.copy()
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
    li_ids = lithium_ids(snap.material_roles)
    plan = FramePlan(spec, values, colors, visible, lo, hi, "sites", cracked, has_lithium=bool(len(li_ids)))
    bits = snap.fields.get("bond_bits")
    if opts.style == "cracks" and bits is not None and snap.offsets is not None:
        plan.style = "cracks"
        material = np.asarray(snap.fields.get("material", solid.astype(np.int32)))
        lithium = np.isin(material, li_ids)
        wet = snap.fields.get("wet")  # fluid Li: the sites with a Li-filled broken bond
        wet = None if wet is None else np.asarray(wet).astype(bool)
        faces = crack_faces(bits, snap.offsets, snap.shape, solid, lithium, wet)
        if cm is not None:  # a face is shown when both its sites are
            upper = faces.site + np.array([int(np.prod(snap.shape[a + 1:])) for a in range(snap.dim)])[faces.axis]
            faces = faces.subset(cm[faces.site] & cm[upper])
        plan.faces = faces
        if wet is not None:
            plan.li_sites = wet & visible
        elif snap.initial_material is not None:
            plan.li_sites = li_filled_sites(material, snap.initial_material, li_ids) & visible
    return plan


def annotations(snap: SnapshotData, opts: FrameOptions, plan: FramePlan) -> Annotations:
    notes = []
    if snap.dim == 3:
        notes.append("scale bar at the body centre")
    if opts.crack_only is not None:
        notes.append(f"crack view: damage ≥ {opts.crack_only:g}")
    if opts.clip is not None:
        axis, side, frac = opts.clip
        notes.append(f"clip {'xyz'[axis]} {side} {frac:g}")
    legend = []
    if plan.style == "cracks":
        legend.append(("crack (broken bonds)", CRACK_RGB))
        if plan.has_lithium:
            legend.append(("Li-filled crack", LI_CRACK_RGB))
    return Annotations(snap.title or "pdssb", tuple(info_lines(snap.info, snap.time)), plan.spec, plan.lo, plan.hi,
                       tuple(snap.material_names), tuple(notes), tuple(legend))


# ---------------------------------------------------------------- 3D: camera and primitives
@dataclass(frozen=True)
class Camera:
    """A perspective camera (µm), z up, vertical field of view FOV_DEG, looking at the body's centre."""

    eye: np.ndarray
    target: np.ndarray
    near: float
    far: float
    resolution: tuple[int, int]

    @property
    def focal_px(self) -> float:
        return self.resolution[1] / (2 * math.tan(math.radians(FOV_DEG / 2)))

    @property
    def distance(self) -> float:
        return float(np.linalg.norm(self.target - self.eye))

    @property
    def px_per_um(self) -> float:
        """Pixels per µm at the depth of the body's centre."""
        return self.focal_px / self.distance

    @classmethod
    def fit(cls, snap: SnapshotData, opts: FrameOptions, image_box, resolution) -> Camera:
        """Orbit camera whose view of the body's bounding sphere fits ``image_box`` at zoom 1."""
        az, el, zoom = opts.camera
        w, h = resolution
        lo = np.array(snap.origin) * 1e6
        ext = snap.extent * 1e6
        c = lo + 0.5 * ext
        radius = 0.5 * float(np.linalg.norm(ext))
        x0, y0, x1, y1 = image_box
        room = max(min(x1 - w / 2, w / 2 - x0, y1 - h / 2, h / 2 - y0), 0.15 * h)
        f = h / (2 * math.tan(math.radians(FOV_DEG / 2)))
        dist = radius / math.sin(math.atan(room / f)) / zoom
        a, e = math.radians(az), math.radians(el)
        eye = c + dist * np.array([math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e)])
        return cls(eye, c, max(1e-3, 0.01 * dist), 10 * dist + 10 * radius, (int(w), int(h)))

    def basis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Right, up and forward unit vectors (world)."""
        fwd = (self.target - self.eye) / self.distance
        right = np.cross(fwd, [0.0, 0.0, 1.0])
        if np.linalg.norm(right) < 1e-9:  # looking straight down: any right will do
            right = np.array([1.0, 0.0, 0.0])
        right /= np.linalg.norm(right)
        return right, np.cross(right, fwd), fwd

    def project(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) µm → (..., 3): pixel x, pixel y (top-left origin) and depth along the view axis."""
        right, up, fwd = self.basis()
        rel = np.asarray(points, dtype=np.float64) - self.eye
        depth = rel @ fwd
        f = self.focal_px
        safe = np.where(depth > 1e-12, depth, 1e-12)
        w, h = self.resolution
        return np.stack([w / 2 + f * (rel @ right) / safe, h / 2 - f * (rel @ up) / safe, depth], axis=-1)


@dataclass
class Geometry3D:
    centres: np.ndarray  # (N, 3) µm
    radii: np.ndarray  # (N,) µm
    colors: np.ndarray  # (N, 3) uint8
    quads: np.ndarray  # (Q, 4, 3) µm, corners in order around the face
    normals: np.ndarray  # (Q, 3)
    quad_colors: np.ndarray  # (Q, 3) uint8


def _faded(colors: np.ndarray, t: float = 0.45) -> np.ndarray:
    return ((1 - t) * colors + t * np.array(SHELL_GREY)).astype(np.uint8)


def geometry_3d(snap: SnapshotData, plan: FramePlan) -> Geometry3D:
    r = 0.5 * snap.dx * 1e6
    pos = snap.positions() * 1e6
    visible, colors = plan.visible, plan.colors
    shell = surface_mask(visible, snap.shape)
    no_quads = np.zeros((0, 4, 3)), np.zeros((0, 3)), np.zeros((0, 3), np.uint8)
    if plan.style == "sites":
        if plan.cracked is None:
            sel = np.nonzero(visible)[0]
            return Geometry3D(pos[sel], np.full(len(sel), r), colors[sel], *no_quads)
        shell &= ~plan.cracked
        show = np.nonzero(visible & plan.cracked)[0]
        grey = np.nonzero(shell)[0]
        return Geometry3D(np.concatenate([pos[show], pos[grey]]),
                          np.concatenate([np.full(len(show), r), np.full(len(grey), 0.3 * r)]),
                          np.concatenate([colors[show], np.tile(np.uint8(SHELL_GREY), (len(grey), 1))]), *no_quads)
    li = plan.li_sites if plan.li_sites is not None else np.zeros_like(visible)
    shell &= ~li
    grey = np.nonzero(shell)[0]
    shell_rgb = np.tile(np.uint8(SHELL_GREY), (len(grey), 1)) if plan.cracked is not None else _faded(colors[grey])
    filled = np.nonzero(li)[0]
    faces = plan.faces
    quads = np.array(snap.origin) * 1e6 + (faces.corners() + 0.5) * snap.dx * 1e6
    quad_rgb = np.where(faces.li_filled[:, None], np.uint8(LI_CRACK_RGB), np.uint8(CRACK_RGB)).astype(np.uint8)
    return Geometry3D(np.concatenate([pos[filled], pos[grey]]),
                      np.concatenate([np.full(len(filled), r), np.full(len(grey), 0.35 * r)]),
                      np.concatenate([np.tile(np.uint8(LI_CRACK_RGB), (len(filled), 1)), shell_rgb]).astype(np.uint8),
                      quads, faces.normal, quad_rgb)


# ---------------------------------------------------------------- the interface
class FrameRenderer:
    """Draws frames at a fixed resolution. Subclasses draw the 3D primitives and deliver the image."""

    kind = ""

    def __init__(self, resolution: tuple[int, int]):
        self.resolution = (int(resolution[0]), int(resolution[1]))
        self.map_2d: tuple[int, int, float, int] | None = None
        self.image_box: tuple[int, int, int, int] | None = None
        self.camera: Camera | None = None
        self.layout: Layout | None = None  # of the last frame

    def draw(self, snap: SnapshotData, opts: FrameOptions, read: bool = True) -> np.ndarray | None:
        """Draw one frame; return it as H × W × 3 uint8 when ``read``."""
        plan = plan_frame(snap, opts)
        ann = annotations(snap, opts, plan)
        w, h = self.resolution
        layout = self.layout = layout_frame(w, h, ann)
        frame = np.empty((h, w, 3), dtype=np.uint8)
        frame[:] = BACKGROUND
        if snap.dim == 2:
            px_per_um = self._paint_2d(frame, snap, plan, layout.image_box)
            box = self.image_box
        else:
            self.camera = Camera.fit(snap, opts, layout.image_box, self.resolution)
            px_per_um, box = self.camera.px_per_um, None
        if opts.overlay:
            frame = draw_overlay(frame, layout, ann, px_per_um, box)
        geometry = geometry_3d(snap, plan) if snap.dim == 3 else None
        return self._finish(frame, geometry, read)

    def _finish(self, frame: np.ndarray, geometry: Geometry3D | None, read: bool) -> np.ndarray | None:
        raise NotImplementedError

    def _paint_2d(self, frame: np.ndarray, snap: SnapshotData, plan: FramePlan, image_box) -> float:
        from . import raster

        nx, ny = snap.shape
        x0, y0, x1, y1 = image_box
        s = min((x1 - x0) / nx, (y1 - y0) / ny)
        tw, th = max(1, int(nx * s)), max(1, int(ny * s))
        ox = x0 + ((x1 - x0) - tw) // 2
        oy = y0 + ((y1 - y0) - th) // 2
        smooth = plan.style == "cracks"
        grid = (nx, ny)
        if plan.spec.categorical:
            val = np.where(plan.visible, plan.values, 0.0)
            table = material_colors(max(len(snap.material_names), int(plan.values.max(initial=0))))
        else:
            val = np.nan_to_num(plan.values, nan=plan.lo, posinf=plan.hi, neginf=plan.lo)
            table = lut(plan.spec.cmap)
        fade = ~plan.cracked if plan.cracked is not None else np.zeros(len(val), bool)
        mark = plan.li_sites if plan.li_sites is not None else np.zeros(len(val), bool)

        def f32(a):
            return np.ascontiguousarray(np.asarray(a, dtype=np.float32).reshape(grid))

        lo, hi = plan.lo, plan.hi if plan.hi > plan.lo else plan.lo + 1.0
        colors = np.array([VOID_2D, FADED, LI_CRACK_RGB], dtype=np.uint8)
        raster.field_2d(f32(val), f32(plan.visible), f32(fade), f32(mark), np.ascontiguousarray(table), colors,
                        float(lo), float(hi), int(plan.spec.categorical), int(smooth), int(ox), int(oy), int(tw),
                        int(th), float(s), frame)
        self.map_2d = (ox, oy, s, th)
        self.image_box = (ox, oy, ox + tw, oy + th)
        if plan.faces is not None and len(plan.faces):
            self._faces_2d(frame, snap, plan.faces, s)
        return s / (snap.dx * 1e6)

    def _faces_2d(self, frame: np.ndarray, snap: SnapshotData, faces: CrackFaces, s: float) -> None:
        """Each broken nearest-neighbour bond as its face, a segment on the crack line (cracks.py)."""
        from . import raster

        ends = faces.corners()
        a, b = self._site_to_px(ends[:, 0]), self._site_to_px(ends[:, 1])
        seg = np.ascontiguousarray(np.concatenate([a, b], axis=1), dtype=np.float32)
        cov = np.zeros(frame.shape[:2] + (3,), dtype=np.float32)
        half = max(1.2, 0.1 * s)
        # a dark casing under every face keeps a white crack visible on a pale field (damage near 0)
        raster.segments(seg, np.zeros(len(faces), np.int32), float(half + max(1.0, 0.06 * s)), cov)
        raster.segments(seg, 1 + faces.li_filled.astype(np.int32), float(half), cov)
        raster.composite(cov, np.array([CASING_RGB, CRACK_RGB, LI_CRACK_RGB], dtype=np.uint8), frame)

    def _site_to_px(self, ij: np.ndarray) -> np.ndarray:
        """Site-index coordinates (F, 2) → pixel coordinates (x right, y down) in the last 2D frame."""
        ox, oy, s, th = self.map_2d
        return np.stack([ox + (ij[:, 0] + 0.5) * s, oy + th - (ij[:, 1] + 0.5) * s], axis=1)

    def pixel_of(self, i: float, j: float) -> tuple[int, int]:
        """(row, column) of the point (i, j) in site-index coordinates (site (i, j)'s centre) in the
        last 2D frame drawn."""
        x, y = self._site_to_px(np.array([[i, j]], dtype=np.float64))[0]
        return int(y), int(x)
