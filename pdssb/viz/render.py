"""Headless rendering of a run folder (``pdssb render``) and video while a run goes (``--video``).

Frames come from :func:`~pdssb.viz.renderers.open_renderer` (GGUI offscreen when Vulkan starts, the
software renderer otherwise, or the one ``--renderer`` names): the viewer's drawing code. A
:class:`VideoSink` writes them as MP4 (imageio + imageio-ffmpeg, libx264, yuv420p: width and
height must be even), GIF (imageio/Pillow, looping), or a folder of numbered PNGs.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from ..errors import InputError
from .colormaps import value_range
from .renderers import open_renderer
from .data import RunData, SnapshotData
from .options import FrameOptions

__all__ = ["VideoSink", "check_output", "render_run", "LiveVideo"]


def output_kind(out: Path) -> str:
    s = str(out)
    if s.endswith(("/", os.sep)) or out.is_dir() or out.suffix == "":
        return "dir"
    suffix = out.suffix.lower()
    if suffix in (".mp4", ".gif"):
        return suffix[1:]
    raise InputError("--out", f"'{out}': unknown video type '{out.suffix}' (use .mp4, .gif or a folder/)")


def check_output(out: Path) -> str:
    """Kind of output ('mp4', 'gif', 'dir') after checking that it can be written (InputError if not)."""
    kind = output_kind(out)
    target = out if kind == "dir" else out.parent
    probe_dir = target
    while not probe_dir.exists():
        probe_dir = probe_dir.parent
    if not probe_dir.is_dir():
        raise InputError("--out", f"'{out}' cannot be written ('{probe_dir}' is not a folder)")
    if not os.access(probe_dir, os.W_OK | os.X_OK):
        raise InputError("--out", f"'{out}' cannot be written (no write permission in '{probe_dir}')")
    if kind != "dir" and out.is_dir():
        raise InputError("--out", f"'{out}' is a folder")
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError("--out", f"'{out}' cannot be written ({e.strerror})") from None
    return kind


class VideoSink:
    """Collects frames into an MP4, a GIF or a folder of PNGs."""

    def __init__(self, out: Path, fps: float = 10.0):
        self.out = Path(out)
        self.kind = check_output(self.out)
        if not 0.1 <= fps <= 240:
            raise InputError("--fps", "must lie between 0.1 and 240")
        self.fps = float(fps)
        self.frames = 0
        self._writer = None
        self._gif: list[np.ndarray] = []

    def add(self, frame: np.ndarray) -> None:
        if self.kind == "mp4":
            if frame.shape[0] % 2 or frame.shape[1] % 2:
                frame = frame[: frame.shape[0] // 2 * 2, : frame.shape[1] // 2 * 2]
            if self._writer is None:
                import imageio.v2 as imageio

                self._writer = imageio.get_writer(
                    str(self.out), format="FFMPEG", mode="I", fps=self.fps, codec="libx264",
                    pixelformat="yuv420p", quality=8, macro_block_size=2, ffmpeg_log_level="error")
            self._writer.append_data(frame)
        elif self.kind == "gif":
            self._gif.append(frame)
        else:
            import imageio.v3 as iio

            iio.imwrite(self.out / f"frame_{self.frames:05d}.png", frame)
        self.frames += 1

    def close(self) -> Path:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self.kind == "gif" and self._gif:
            import imageio.v3 as iio

            iio.imwrite(self.out, np.stack(self._gif), extension=".gif", duration=1000.0 / self.fps, loop=0)
            self._gif = []
        return self.out


def run_value_range(run: RunData, opts: FrameOptions) -> tuple[float, float]:
    """One colour range for every frame of a video (so colours mean the same all through)."""
    spec = opts.spec
    if spec.fixed is not None:
        return spec.fixed
    los, his = [], []
    for i in range(len(run)):
        s = run.snapshot(i)
        lo, hi = value_range(spec, spec.values(s.fields), s.solid)
        los.append(lo)
        his.append(hi)
    return min(los), max(his)


def render_run(run_dir: Path, out: Path, opts: FrameOptions, fps: float = 10.0,
               progress: Callable[[int, int], None] | None = None, renderer: str = "auto") -> dict:
    """Render every snapshot of ``run_dir`` into ``out``; returns {frames, out, kind, seconds, renderer}."""
    import time

    run = RunData(run_dir)
    opts = opts.validated()
    opts.spec.values(run.snapshot(0).fields)  # a field this run lacks fails before any output
    sink = VideoSink(out, fps)
    t0 = time.time()
    if opts.value_range is None and not opts.spec.categorical:
        opts = replace(opts, value_range=run_value_range(run, opts))
    drawer = open_renderer(renderer, opts.resolution)
    try:
        for i in range(len(run)):
            sink.add(drawer.draw(run.snapshot(i), opts))
            if progress:
                progress(i + 1, len(run))
    finally:
        sink.close()
    return dict(frames=sink.frames, out=str(out), kind=sink.kind, seconds=time.time() - t0,
                resolution=list(opts.resolution), renderer=drawer.kind)


class LiveVideo:
    """``on_frame`` callback of :meth:`pdssb.simulation.Simulation.run`: one frame per step of a quasi-static
    run (per snapshot of a dynamic one)."""

    def __init__(self, setup, out: Path, opts: FrameOptions, fps: float = 10.0, renderer: str = "auto"):
        self.setup = setup
        self.opts = opts.validated()
        self.sink = VideoSink(out, fps)
        self.renderer = open_renderer(renderer, self.opts.resolution)
        self.records: list[dict] | None = None
        self.seconds = 0.0

    def __call__(self, step: int, time: float, fields: Mapping[str, np.ndarray]) -> None:
        import time as _t

        t0 = _t.perf_counter()
        info = dict(self.records[-1]) if self.records else {}
        snap = SnapshotData.from_setup(self.setup, fields, time, step, info)
        self.sink.add(self.renderer.draw(snap, self.opts))
        self.seconds += _t.perf_counter() - t0

    def close(self) -> Path:
        return self.sink.close()
