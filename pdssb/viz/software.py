"""The software renderer: the same frames as GGUI, drawn by Taichi kernels, with no Vulkan.

:class:`SoftwareRenderer` is a :class:`~pdssb.viz.compose.FrameRenderer`: the field image (2D),
the crack faces and the annotations are shared with the GGUI renderer; what is its own is the 3D
picture. The spheres and crack quads of :func:`~pdssb.viz.compose.geometry_3d` are projected by
the shared :class:`~pdssb.viz.compose.Camera` on the host, then splatted into a z-buffer by
:mod:`pdssb.viz.raster` (spheres as depth-correct impostors, quads as two perspective-correct
triangles) and shaded with the light GGUI is given: ambient plus a light at the camera. The
kernels run on Taichi's CPU or CUDA backend, whichever :func:`pdssb.backend.init` chose.
"""

from __future__ import annotations

import numpy as np

from . import raster
from .compose import AMBIENT, DIFFUSE, FrameRenderer, Geometry3D, ensure_backend

__all__ = ["SoftwareRenderer"]


class SoftwareRenderer(FrameRenderer):
    kind = "software"

    def __init__(self, resolution: tuple[int, int] = (1280, 720)):
        ensure_backend()
        super().__init__(resolution)

    def _finish(self, frame: np.ndarray, geometry: Geometry3D | None, read: bool) -> np.ndarray | None:
        if geometry is not None:
            self._splat(frame, geometry)
        return frame if read else None

    def _splat(self, frame: np.ndarray, g: Geometry3D) -> None:
        cam = self.camera
        f = cam.focal_px
        p = cam.project(g.centres)
        front = p[:, 2] > cam.near
        p, radii, rgb = p[front], g.radii[front], g.colors[front]
        sph = np.empty((len(p), 5), dtype=np.float32)
        sph[:, :3] = p
        sph[:, 3] = np.maximum(f * radii / p[:, 2], 0.75)  # at least a pixel wide: never lost between pixels
        sph[:, 4] = radii
        q = cam.project(g.quads)
        keep = (q[..., 2] > cam.near).all(axis=1)
        q, normals, quad_rgb = q[keep], g.normals[keep], g.quad_colors[keep]
        key = np.full(frame.shape[:2], raster.EMPTY, dtype=np.int64)
        if len(sph):
            raster.splat_spheres(sph, float(cam.near), float(cam.far), key)
        if len(q):
            raster.raster_quads(np.ascontiguousarray(q, dtype=np.float32), len(sph), float(cam.near),
                                float(cam.far), key)
            to_eye = cam.eye - g.quads[keep].mean(axis=1)
            light = AMBIENT + DIFFUSE * np.abs((normals * to_eye).sum(axis=1)) / np.linalg.norm(to_eye, axis=1)
            quad_rgb = np.clip(quad_rgb * light[:, None] + 0.5, 0, 255).astype(np.uint8)
        one = np.zeros((1, 5), np.float32), np.zeros((1, 3), np.uint8)
        raster.shade(key, sph if len(sph) else one[0], len(sph), np.ascontiguousarray(rgb) if len(sph) else one[1],
                     np.ascontiguousarray(quad_rgb) if len(q) else one[1], AMBIENT, DIFFUSE, frame)
