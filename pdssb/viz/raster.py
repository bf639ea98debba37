"""Taichi kernels that draw into an H × W × 3 uint8 frame: no GGUI, no Vulkan, CPU or CUDA.

* :func:`field_2d` rasterises a 2D lattice into a box of the frame: each pixel samples the site
  grid bilinearly (``smooth``) or takes its nearest site. A continuous field interpolates its
  values over the solid corners and maps the result through a 256-entry colour table; a pixel
  whose bilinear solid fraction is below ½ is void, so the body's outline runs half-way between
  a solid and a void site, as the cells' faces do. A categorical field (material ids) takes the
  id with the largest bilinear weight, which keeps materials apart with smooth boundaries.
* :func:`segments` rasterises line segments (2D crack faces) into per-class coverage with
  antialiased edges; :func:`composite` blends the classes' colours by it. Coverage is combined
  with an atomic max, so the result does not depend on the order the segments are drawn in.
* :func:`splat_spheres` and :func:`raster_quads` write a z-buffer of 64-bit keys (quantised depth
  in the high word, primitive id in the low word) with an atomic min, so the nearest surface wins
  and ties are broken by id: a deterministic picture in parallel. :func:`shade` then colours each
  covered pixel (spheres: ambient + diffuse towards the camera, from the sphere's normal at that
  pixel; quads: their colour, shaded on the host).

The frame is passed as a NumPy array: Taichi shares it on the CPU and copies it on CUDA.
"""

import numpy as np
import taichi as ti

__all__ = ["EMPTY", "composite", "field_2d", "raster_quads", "segments", "shade", "splat_spheres"]

nd = ti.types.ndarray()

#: z-buffer key of a pixel that nothing covers
EMPTY = np.iinfo(np.int64).max
_DEPTH_LEVELS = float(2**30 - 1)


@ti.func
def _axis(x, n, smooth):
    """Lower and upper site and the weight of the upper one along one axis at coordinate x."""
    i0 = 0
    i1 = 0
    f = 0.0
    if smooth != 0:
        xf = ti.min(ti.max(x, 0.0), ti.cast(n - 1, ti.f32))
        i0 = ti.min(ti.cast(ti.floor(xf), ti.i32), ti.max(n - 2, 0))
        i1 = ti.min(i0 + 1, n - 1)
        f = xf - ti.cast(i0, ti.f32)
    else:
        i0 = ti.min(ti.max(ti.cast(ti.floor(x + 0.5), ti.i32), 0), n - 1)
        i1 = i0
    return i0, i1, f


@ti.kernel
def field_2d(val: nd, solid: nd, fade: nd, mark: nd, table: nd, colors: nd, lo: ti.f32, hi: ti.f32,
             categorical: ti.i32, smooth: ti.i32, ox: ti.i32, oy: ti.i32, tw: ti.i32, th: ti.i32,
             scale: ti.f32, frame: nd):
    """Draw the (nx, ny) site grid ``val`` into frame[oy:oy+th, ox:ox+tw] at ``scale`` pixels per site.

    ``solid``, ``fade`` and ``mark`` are (nx, ny) 0/1 site masks: void, sites faded towards
    colors[1] (the crack view), sites drawn in colors[2] (Li-filled cracks); colors[0] is void.
    ``table`` maps values in [lo, hi] (256 rows) or, when ``categorical``, ids (one row per id).
    """
    nx = val.shape[0]
    ny = val.shape[1]
    for py, px in ti.ndrange(th, tw):
        x = (ti.cast(px, ti.f32) + 0.5) / scale - 0.5
        y = (ti.cast(th - py, ti.f32) - 0.5) / scale - 0.5  # the top row is the largest y
        i0, i1, fx = _axis(x, nx, smooth)
        j0, j1, fy = _axis(y, ny, smooth)
        ii = ti.Vector([i0, i1, i0, i1])
        jj = ti.Vector([j0, j0, j1, j1])
        w = ti.Vector([(1.0 - fx) * (1.0 - fy), fx * (1.0 - fy), (1.0 - fx) * fy, fx * fy])
        rgb = ti.Vector([0.0, 0.0, 0.0])
        void = False
        if categorical != 0:
            best = 0
            best_w = -1.0
            for a in ti.static(range(4)):
                id_a = ti.cast(val[ii[a], jj[a]], ti.i32)
                w_a = 0.0
                for b in ti.static(range(4)):
                    if ti.cast(val[ii[b], jj[b]], ti.i32) == id_a:
                        w_a += w[b]
                if w_a > best_w:
                    best_w = w_a
                    best = id_a
            void = best == 0
            for c in ti.static(range(3)):
                rgb[c] = ti.cast(table[best, c], ti.f32)
        else:
            ws = 0.0
            v = 0.0
            for a in ti.static(range(4)):
                s = w[a] * solid[ii[a], jj[a]]
                ws += s
                v += s * val[ii[a], jj[a]]
            void = ws < 0.5
            if not void:
                t = (v / ws - lo) / (hi - lo)
                k = ti.min(ti.max(ti.cast(t * 255.0 + 0.5, ti.i32), 0), 255)
                for c in ti.static(range(3)):
                    rgb[c] = ti.cast(table[k, c], ti.f32)
        if void:
            for c in ti.static(range(3)):
                rgb[c] = ti.cast(colors[0, c], ti.f32)
        else:
            f = 0.0
            m = 0.0
            for a in ti.static(range(4)):
                f += w[a] * fade[ii[a], jj[a]]
                m += w[a] * mark[ii[a], jj[a]]
            for c in ti.static(range(3)):
                rgb[c] = rgb[c] * (1.0 - 0.7 * f) + 0.7 * f * ti.cast(colors[1, c], ti.f32)
                if m >= 0.5:
                    rgb[c] = ti.cast(colors[2, c], ti.f32)
        for c in ti.static(range(3)):
            frame[oy + py, ox + px, c] = ti.cast(ti.min(rgb[c] + 0.5, 255.0), ti.u8)


@ti.kernel
def segments(seg: nd, cls: nd, half_width: ti.f32, cov: nd):
    """Coverage (H, W, classes) of the segments seg[f] = (x0, y0, x1, y1) in pixels, round caps."""
    h = cov.shape[0]
    w = cov.shape[1]
    r = half_width + 1.0
    for f in range(seg.shape[0]):
        x0, y0, x1, y1 = seg[f, 0], seg[f, 1], seg[f, 2], seg[f, 3]
        bx0 = ti.max(ti.cast(ti.floor(ti.min(x0, x1) - r), ti.i32), 0)
        bx1 = ti.min(ti.cast(ti.ceil(ti.max(x0, x1) + r), ti.i32), w - 1)
        by0 = ti.max(ti.cast(ti.floor(ti.min(y0, y1) - r), ti.i32), 0)
        by1 = ti.min(ti.cast(ti.ceil(ti.max(y0, y1) + r), ti.i32), h - 1)
        dx = x1 - x0
        dy = y1 - y0
        l2 = dx * dx + dy * dy
        for py in range(by0, by1 + 1):
            for px in range(bx0, bx1 + 1):
                cx = ti.cast(px, ti.f32) + 0.5
                cy = ti.cast(py, ti.f32) + 0.5
                t = 0.0
                if l2 > 0.0:
                    t = ti.min(ti.max(((cx - x0) * dx + (cy - y0) * dy) / l2, 0.0), 1.0)
                ex = x0 + t * dx - cx
                ey = y0 + t * dy - cy
                a = ti.min(ti.max(half_width + 0.5 - ti.sqrt(ex * ex + ey * ey), 0.0), 1.0)
                if a > 0.0:
                    ti.atomic_max(cov[py, px, cls[f]], ti.cast(a, ti.f32))


@ti.kernel
def composite(cov: nd, colors: nd, frame: nd):
    """Blend colour class c over the frame by its coverage, classes in order."""
    for py, px in ti.ndrange(frame.shape[0], frame.shape[1]):
        for k in range(cov.shape[2]):
            a = cov[py, px, k]
            if a > 0.0:
                for c in ti.static(range(3)):
                    v = (1.0 - a) * ti.cast(frame[py, px, c], ti.f32) + a * ti.cast(colors[k, c], ti.f32)
                    frame[py, px, c] = ti.cast(ti.min(v + 0.5, 255.0), ti.u8)


@ti.func
def _key(depth, near, far, ident):
    q = ti.min(ti.max((depth - near) / (far - near), 0.0), 1.0)
    return (ti.cast(q * _DEPTH_LEVELS, ti.i64) << 32) + ti.cast(ident, ti.i64)


@ti.kernel
def splat_spheres(sph: nd, near: ti.f32, far: ti.f32, key: nd):
    """Spheres sph[i] = (x, y, depth, pixel radius, radius in depth units) into the z-buffer."""
    h = key.shape[0]
    w = key.shape[1]
    for i in range(sph.shape[0]):
        x, y, z, r, rad = sph[i, 0], sph[i, 1], sph[i, 2], sph[i, 3], sph[i, 4]
        bx0 = ti.max(ti.cast(ti.floor(x - r), ti.i32), 0)
        bx1 = ti.min(ti.cast(ti.ceil(x + r), ti.i32), w - 1)
        by0 = ti.max(ti.cast(ti.floor(y - r), ti.i32), 0)
        by1 = ti.min(ti.cast(ti.ceil(y + r), ti.i32), h - 1)
        for py in range(by0, by1 + 1):
            for px in range(bx0, bx1 + 1):
                dx = ti.cast(px, ti.f32) + 0.5 - x
                dy = ti.cast(py, ti.f32) + 0.5 - y
                q = (dx * dx + dy * dy) / (r * r)
                if q < 1.0:
                    ti.atomic_min(key[py, px], _key(z - rad * ti.sqrt(1.0 - q), near, far, i))


@ti.func
def _edge(ax, ay, bx, by, px, py):
    return (bx - ax) * (py - ay) - (by - ay) * (px - ax)


@ti.kernel
def raster_quads(quad: nd, first: ti.i32, near: ti.f32, far: ti.f32, key: nd):
    """Convex quads quad[q, corner] = (x, y, depth) into the z-buffer as ids first + q.

    Depth is interpolated as 1/depth across each of the two triangles (perspective-correct)."""
    h = key.shape[0]
    w = key.shape[1]
    for q in range(quad.shape[0]):
        xs = ti.Vector([quad[q, 0, 0], quad[q, 1, 0], quad[q, 2, 0], quad[q, 3, 0]])
        ys = ti.Vector([quad[q, 0, 1], quad[q, 1, 1], quad[q, 2, 1], quad[q, 3, 1]])
        zs = ti.Vector([quad[q, 0, 2], quad[q, 1, 2], quad[q, 2, 2], quad[q, 3, 2]])
        bx0 = ti.max(ti.cast(ti.floor(xs.min()), ti.i32), 0)
        bx1 = ti.min(ti.cast(ti.ceil(xs.max()), ti.i32), w - 1)
        by0 = ti.max(ti.cast(ti.floor(ys.min()), ti.i32), 0)
        by1 = ti.min(ti.cast(ti.ceil(ys.max()), ti.i32), h - 1)
        for py in range(by0, by1 + 1):
            for px in range(bx0, bx1 + 1):
                cx = ti.cast(px, ti.f32) + 0.5
                cy = ti.cast(py, ti.f32) + 0.5
                for t in ti.static(range(2)):
                    a, b, c = 0, 1 + t, 2 + t
                    area = _edge(xs[a], ys[a], xs[b], ys[b], xs[c], ys[c])
                    if ti.abs(area) > 1e-9:
                        wa = _edge(xs[b], ys[b], xs[c], ys[c], cx, cy) / area
                        wb = _edge(xs[c], ys[c], xs[a], ys[a], cx, cy) / area
                        wc = 1.0 - wa - wb
                        if wa >= 0.0 and wb >= 0.0 and wc >= 0.0:
                            depth = 1.0 / (wa / zs[a] + wb / zs[b] + wc / zs[c])
                            ti.atomic_min(key[py, px], _key(depth, near, far, first + q))


@ti.kernel
def shade(key: nd, sph: nd, n_sph: ti.i32, sphere_rgb: nd, quad_rgb: nd, ambient: ti.f32, diffuse: ti.f32,
          frame: nd):
    """Colour every pixel the z-buffer covers: ids below n_sph are spheres, lit by their normal at
    that pixel; the others are quads, in their (host-shaded) colour."""
    for py, px in ti.ndrange(key.shape[0], key.shape[1]):
        k = key[py, px]
        if k != ti.i64(EMPTY):
            ident = ti.cast(k - ((k >> 32) << 32), ti.i32)
            if ident < n_sph:
                dx = ti.cast(px, ti.f32) + 0.5 - sph[ident, 0]
                dy = ti.cast(py, ti.f32) + 0.5 - sph[ident, 1]
                q = ti.min((dx * dx + dy * dy) / (sph[ident, 3] * sph[ident, 3]), 1.0)
                light = ambient + diffuse * ti.sqrt(1.0 - q)
                for c in ti.static(range(3)):
                    frame[py, px, c] = ti.cast(ti.min(ti.cast(sphere_rgb[ident, c], ti.f32) * light + 0.5, 255.0), ti.u8)
            else:
                for c in ti.static(range(3)):
                    frame[py, px, c] = quad_rgb[ident - n_sph, c]
