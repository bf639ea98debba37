"""The GGUI renderer (Taichi GGUI, Vulkan): offscreen frames and the live viewer's window.

:class:`GGUIRenderer` is a :class:`~pdssb.viz.compose.FrameRenderer`. The frame it starts from
(annotations, and in 2D the rasterised lattice and crack faces) is the one the software renderer
draws; it goes to GGUI's canvas with ``canvas.set_image``. In 3D GGUI draws the primitives of
:func:`~pdssb.viz.compose.geometry_3d` over it: spheres as ``scene.particles`` and the crack
quads as a two-sided ``scene.mesh``, with the shared :class:`~pdssb.viz.compose.Camera`.
``draw(..., read=True)`` reads GGUI's image buffer back as an H × W × 3 uint8 array.

Vulkan: GGUI needs a Vulkan driver (on a CPU-only Linux machine: Debian's ``mesa-vulkan-drivers``
and ``libvulkan1``, i.e. lavapipe). Creating the window without one raises
:class:`VulkanUnavailable`, an :class:`~pdssb.errors.InputError`:
:func:`~pdssb.viz.renderers.open_renderer` then falls back to the software renderer, unless GGUI
was asked for (``--renderer ggui``, or a live window), when the CLI prints one line naming the
packages and exits with code 2. GGUI works with Taichi's CPU and CUDA backends, so
:func:`pdssb.backend.init` is used as everywhere else.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes.util
import os
import sys

import numpy as np

from ..errors import InputError
from .compose import AMBIENT, DIFFUSE, FOV_DEG, FrameRenderer, Geometry3D, ensure_backend

__all__ = ["GGUIRenderer", "VulkanUnavailable", "vulkan_problem"]

VULKAN_HINT = ("Vulkan is not available for Taichi GGUI{detail}; install a Vulkan loader and driver "
               "(Debian/Ubuntu: apt-get install mesa-vulkan-drivers libvulkan1)")


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
        for w in GGUIRenderer._windows.values():
            try:
                w.destroy()
            except Exception:  # noqa: BLE001 - the runtime may already be gone
                pass
        GGUIRenderer._windows.clear()
        _MeshBuffer.fields.clear()  # fields of the old runtime
    finally:
        os.chdir(cwd)
        shutil.rmtree(scratch, ignore_errors=True)


class _MeshBuffer:
    """Vertex, normal and colour fields for scene.mesh (GGUI takes fields, not NumPy), grown by doubling."""

    fields: dict = {}

    @classmethod
    def load(cls, ti, vertices: np.ndarray, normals: np.ndarray, colors: np.ndarray):
        n = len(vertices)
        cap = cls.fields.get("cap", 0)
        if n > cap:
            cap = max(1024, 1 << (n - 1).bit_length())
            cls.fields.update(cap=cap, v=ti.Vector.field(3, ti.f32, shape=cap), n=ti.Vector.field(3, ti.f32, shape=cap),
                              c=ti.Vector.field(3, ti.f32, shape=cap))
        pad = np.zeros((cap - n, 3), np.float32)
        for name, a in (("v", vertices), ("n", normals), ("c", colors)):
            cls.fields[name].from_numpy(np.concatenate([np.asarray(a, np.float32), pad]))
        return cls.fields["v"], cls.fields["n"], cls.fields["c"]


class GGUIRenderer(FrameRenderer):
    """A GGUI window (visible or offscreen) that draws snapshots. Reuse one per process."""

    kind = "ggui"
    _windows: dict = {}

    def __init__(self, resolution: tuple[int, int] = (1280, 720), show_window: bool = False,
                 name: str = "pdssb"):
        from .. import backend

        ensure_backend()
        problem = vulkan_problem()
        if problem:
            raise VulkanUnavailable(problem)
        super().__init__(resolution)
        self.ti = backend.import_taichi()
        self.show_window = show_window
        key = (self.resolution, show_window, backend.current().get("key"))
        if key in GGUIRenderer._windows:  # reuse: one offscreen window per size and Taichi runtime
            self.window = GGUIRenderer._windows[key]
        else:
            # one GGUI window per process at a time: with two alive (say a 2D and a 3D size) Taichi
            # 1.7 crashes when the process exits, so the old one goes first
            _destroy_windows()
            try:
                with _quiet_stderr():
                    self.window = self.ti.ui.Window(name, self.resolution, vsync=False, show_window=show_window)
            except RuntimeError as e:
                raise VulkanUnavailable(str(e).splitlines()[0] if str(e) else "") from None
            if not GGUIRenderer._windows:
                atexit.register(_destroy_windows)
                backend.on_reinit(_destroy_windows)
            GGUIRenderer._windows[key] = self.window
        self.canvas = self.window.get_canvas()
        self.scene = self.window.get_scene()
        self.ggui_camera = self.ti.ui.Camera()

    def _finish(self, frame: np.ndarray, geometry: Geometry3D | None, read: bool) -> np.ndarray | None:
        self.canvas.set_image(np.ascontiguousarray(frame.transpose(1, 0, 2)[:, ::-1]))
        if geometry is not None:
            self._scene_3d(geometry)
        if not read:
            return None
        buf = self.window.get_image_buffer_as_numpy()  # (W, H, 4) float, y up; read once per frame
        rgb = (buf[:, ::-1, :3] * 255.0 + 0.5).astype(np.uint8)  # values lie in [0, 1]
        return np.ascontiguousarray(rgb.transpose(1, 0, 2))

    def _scene_3d(self, g: Geometry3D) -> None:
        cam, gc = self.camera, self.ggui_camera
        gc.position(*cam.eye)
        gc.lookat(*cam.target)
        gc.up(0.0, 0.0, 1.0)
        gc.fov(FOV_DEG)
        gc.z_near(cam.near)
        gc.z_far(cam.far)
        self.scene.set_camera(gc)
        self.scene.ambient_light((AMBIENT,) * 3)
        self.scene.point_light(pos=tuple(cam.eye), color=(DIFFUSE,) * 3)
        if len(g.centres):
            # GGUI 1.7 sizes particles by the window's width where its projection uses the height:
            # scaled by H/W they come out at their true radius (as the software renderer draws them)
            radii = np.ascontiguousarray(g.radii * self.resolution[1] / self.resolution[0], dtype=np.float32)
            self.scene.particles(np.ascontiguousarray(g.centres, dtype=np.float32), radius=float(radii.max()),
                                 per_vertex_color=np.ascontiguousarray(g.colors, dtype=np.float32) / 255,
                                 per_vertex_radius=radii)
        if len(g.quads):
            tri = g.quads[:, [0, 1, 2, 0, 2, 3]].reshape(-1, 3)
            normals = np.repeat(g.normals, 6, axis=0)
            colors = np.repeat(g.quad_colors.astype(np.float32) / 255, 6, axis=0)
            v, n, c = _MeshBuffer.load(self.ti, tri, normals, colors)
            self.scene.mesh(v, normals=n, per_vertex_color=c, two_sided=True, vertex_count=len(tri))
        self.canvas.scene(self.scene)
