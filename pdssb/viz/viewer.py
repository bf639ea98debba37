"""``pdssb view``: watch a simulation live, or replay a run folder, in a GGUI window or offscreen.

The viewer draws with :func:`~pdssb.viz.renderers.open_renderer`, the same code as ``pdssb
render``: a window needs GGUI; ``--offscreen`` uses GGUI or the software renderer. A live source
runs the scene's simulation in the viewer's process and draws every N steps; a replay source
steps through the snapshots of a run folder.

Controls. A control panel (a GGUI sub-window, :meth:`Viewer.panel`) holds: pause/resume, single
step, reset, screenshot; the field; crack faces or sites; the speed; the crack view and its damage
threshold; the clip plane (axis, side, position); and, in a replay, the time slider. The keys stay:
space pause/resume, n single step, +/- speed (steps per frame), r reset, p screenshot, f next
field, s crack faces / sites, c crack view on/off, [ ] move the clip plane, k clip axis, arrows
or right-mouse drag orbit (3D; left/right step through a replay), z/x zoom, Esc quit. Keys and
panel both go through :meth:`Viewer.handle_key` and the ``set_*`` methods, which the offscreen
mode and the tests drive.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import InputError
from .colormaps import FIELDS
from .compose import ensure_backend
from .renderers import open_renderer
from .data import RunData, SnapshotData
from .options import STYLES, FrameOptions

__all__ = ["LiveSource", "ReplaySource", "Viewer", "has_display"]


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class LiveSource:
    """Runs a scene's simulation step by step (no run folder is written)."""

    replay = False

    def __init__(self, setup, precision: str):
        self.setup, self.precision = setup, precision
        self.reset()

    def reset(self) -> None:
        from ..factory import make_simulation

        self.sim = make_simulation(self.setup, self.precision)
        self._steps = self.sim.steps()
        self.step = 0
        self.done = False
        self._fields = None

    def advance(self, n: int = 1) -> bool:
        """Run up to ``n`` steps; False once the simulation has finished."""
        for _ in range(n):
            if self.done:
                return False
            try:
                result = next(self._steps)
            except StopIteration:
                self.done = True
                return False
            self.sim.record(result)
            self.step = result.step
            self._fields = None
        return True

    def snapshot(self) -> SnapshotData:
        if self._fields is None:
            self._fields = self.sim.snapshot_fields()
        info = dict(self.sim.records[-1]) if self.sim.records else {}
        failure = getattr(self.sim, "failure", None)
        if failure:
            info["failure"] = str(failure[1]).replace("_", " ")
        return SnapshotData.from_setup(self.setup, self._fields, self.sim.model.time, self.step, info)

    @property
    def label(self) -> str:
        return f"step {self.step}" + (" (finished)" if self.done else "")


class ReplaySource:
    """Steps through the snapshots of a run folder; ``seek`` is the time slider."""

    replay = True

    def __init__(self, run: RunData):
        self.run = run
        self.index = 0
        self.done = len(run) <= 1
        self._cache: tuple[int, SnapshotData] | None = None

    def reset(self) -> None:
        self.seek(0)

    def seek(self, i: int) -> None:
        self.index = int(np.clip(i, 0, len(self.run) - 1))
        self.done = self.index >= len(self.run) - 1

    def advance(self, n: int = 1) -> bool:
        if self.index >= len(self.run) - 1:
            self.done = True
            return False
        self.seek(self.index + n)
        return True

    def snapshot(self) -> SnapshotData:
        if self._cache is None or self._cache[0] != self.index:
            self._cache = (self.index, self.run.snapshot(self.index))
        return self._cache[1]

    @property
    def label(self) -> str:
        return f"snapshot {self.index + 1}/{len(self.run)}"


class Viewer:
    def __init__(self, source, opts: FrameOptions, every: int = 1, offscreen: bool = True,
                 screenshot_dir: Path = Path("."), fields: list[str] | None = None, renderer: str = "auto"):
        self.source = source
        self.opts = opts.validated()
        self.every = max(1, int(every))
        self.speed = 1
        self.paused = False
        self.offscreen = offscreen
        self.screenshot_dir = Path(screenshot_dir)
        self.screenshots: list[Path] = []
        snap = source.snapshot()
        available = [name for name, f in FIELDS.items() if f.key in snap.fields]
        self.fields = fields or available
        self.renderer = open_renderer(renderer, self.opts.resolution, show_window=not offscreen, name="pdssb view")
        self.last_frame: np.ndarray | None = None
        self.frames = 0
        self._clip_axis = (self.opts.clip[0] if self.opts.clip else snap.dim - 1)
        self._drag: tuple[float, float] | None = None
        self._threshold = self.opts.crack_only if self.opts.crack_only is not None else 0.3

    # ------------------------------------------------------------ controls
    def set_field(self, name: str) -> None:
        self.opts = replace(self.opts, field=name, value_range=None)

    def set_crack_view(self, threshold: float | None) -> None:
        """The crack view at this damage threshold, or everything (None)."""
        if threshold is not None:
            self._threshold = float(np.clip(threshold, 0.0, 1.0))
            threshold = self._threshold
        self.opts = replace(self.opts, crack_only=threshold)

    def set_clip(self, axis: int, side: str, frac: float | None) -> None:
        """Keep the sites on ``side`` ('<' or '>') of ``frac`` of the box along ``axis``; None: no clip."""
        self._clip_axis = int(axis)
        self.opts = replace(self.opts, clip=None if frac is None else (int(axis), side, float(np.clip(frac, 0.0, 1.0))))

    def handle_key(self, key: str) -> None:
        az, el, zoom = self.opts.camera
        o = self.opts
        if key == " ":
            self.paused = not self.paused
        elif key == "n":
            self.source.advance(1 if self.source.replay else self.every)
        elif key in ("+", "="):
            self.speed = min(64, self.speed * 2)
        elif key == "-":
            self.speed = max(1, self.speed // 2)
        elif key == "r":
            self.source.reset()
        elif key == "p":
            self.screenshot()
        elif key == "f":
            i = self.fields.index(o.field) if o.field in self.fields else -1
            self.set_field(self.fields[(i + 1) % len(self.fields)])
        elif key == "s":
            self.opts = replace(o, style=STYLES[(STYLES.index(o.style) + 1) % len(STYLES)])
        elif key == "c":
            self.set_crack_view(None if o.crack_only is not None else self._threshold)
        elif key in ("[", "]"):
            axis, side, frac = o.clip or (self._clip_axis, "<", 1.0)
            frac = float(np.clip(frac + (0.05 if key == "]" else -0.05), 0.0, 1.0))
            self.set_clip(axis, side, None if frac >= 1.0 and side == "<" else frac)
        elif key == "k":
            dim = self.source.snapshot().dim
            self._clip_axis = (self._clip_axis + 1) % dim
            if o.clip:
                self.set_clip(self._clip_axis, o.clip[1], o.clip[2])
        elif key in ("Left", "Right") and self.source.replay:
            self.source.seek(self.source.index + (1 if key == "Right" else -1))
        elif key in ("Left", "Right"):
            self.opts = replace(o, camera=(az + (10 if key == "Right" else -10), el, zoom))
        elif key in ("Up", "Down"):
            self.opts = replace(o, camera=(az, float(np.clip(el + (5 if key == "Up" else -5), -89, 89)), zoom))
        elif key in ("z", "x"):
            self.opts = replace(o, camera=(az, el, float(np.clip(zoom * (1.15 if key == "z" else 1 / 1.15), 0.1, 50))))

    def screenshot(self, path: Path | None = None) -> Path:
        import imageio.v3 as iio

        if self.last_frame is None or not self.offscreen:
            self.last_frame = self.renderer.draw(self.source.snapshot(), self.opts, read=True)
        if path is None:
            self.screenshot_dir.mkdir(parents=True, exist_ok=True)
            path = self.screenshot_dir / f"pdssb_view_{time.strftime('%Y%m%d_%H%M%S')}_{len(self.screenshots):03d}.png"
        iio.imwrite(path, self.last_frame)
        self.screenshots.append(Path(path))
        return Path(path)

    # ------------------------------------------------------------ loops
    def tick(self, read: bool) -> np.ndarray | None:
        """Advance (unless paused) and draw one frame."""
        if not self.paused:
            self.source.advance(self.speed if self.source.replay else self.every * self.speed)
        frame = self.renderer.draw(self.source.snapshot(), self.opts, read=read)
        if read:
            self.last_frame = frame
        self.frames += 1
        return frame

    def run_offscreen(self, frames: int, screenshot: Path | None = None, keys: str = "") -> np.ndarray:
        """Draw ``frames`` frames headless (pressing ``keys`` first, one per frame); save the last one."""
        for i in range(max(1, frames)):
            if i < len(keys):
                self.handle_key(keys[i])
            self.tick(read=True)
        if screenshot is not None:
            self.screenshot(screenshot)
        return self.last_frame

    def run_window(self) -> None:  # pragma: no cover - needs a display
        ti = self.renderer.ti
        win = self.renderer.window
        names = {ti.ui.SPACE: " ", ti.ui.LEFT: "Left", ti.ui.RIGHT: "Right", ti.ui.UP: "Up", ti.ui.DOWN: "Down"}
        while win.running:
            for e in win.get_events(ti.ui.PRESS):
                if e.key == ti.ui.ESCAPE:
                    win.running = False
                elif e.key == ti.ui.RMB:
                    self._drag = win.get_cursor_pos()
                else:
                    self.handle_key(names.get(e.key, e.key))
            if self._drag is not None:
                if win.is_pressed(ti.ui.RMB):
                    x, y = win.get_cursor_pos()
                    az, el, zoom = self.opts.camera
                    dx, dy = x - self._drag[0], y - self._drag[1]
                    self.opts = replace(self.opts, camera=(az - 180 * dx, float(np.clip(el - 90 * dy, -89, 89)), zoom))
                    self._drag = (x, y)
                else:
                    self._drag = None
            if not self.paused and self.source.done and not self.source.replay:
                self.paused = True
            self.tick(read=False)
            self.panel(self.renderer.window.get_gui())
            win.show()

    def panel(self, gui) -> None:
        """The control panel: GGUI widgets in a sub-window at the bottom left (``gui``: window.get_gui())."""
        dim = self.source.snapshot().dim
        with gui.sub_window("controls", 0.005, 0.45, 0.23, 0.54):  # left of the image box (>= 0.24 W)
            gui.text(f"{self.source.label}   every {self.every}")
            if gui.button("resume" if self.paused else "pause"):
                self.handle_key(" ")
            if gui.button("single step"):
                self.handle_key("n")
            if gui.button("reset"):
                self.handle_key("r")
            if gui.button("screenshot"):
                self.handle_key("p")
            i = self.fields.index(self.opts.field) if self.opts.field in self.fields else 0
            gui.text(f"field: {self.fields[i]}")
            j = gui.slider_int("field", i, 0, len(self.fields) - 1)
            if j != i:
                self.set_field(self.fields[j])
            cracks = gui.checkbox("crack faces (off: sites)", self.opts.style == "cracks")
            if cracks != (self.opts.style == "cracks"):
                self.handle_key("s")
            self.speed = gui.slider_int("speed", self.speed, 1, 64)
            crack = gui.checkbox("crack view", self.opts.crack_only is not None)
            if crack != (self.opts.crack_only is not None):
                self.handle_key("c")
            if self.opts.crack_only is not None:
                t = gui.slider_float("threshold", self.opts.crack_only, 0.0, 1.0)
                if t != self.opts.crack_only:
                    self.set_crack_view(t)
            clip = gui.checkbox("clip plane", self.opts.clip is not None)
            axis, side, frac = self.opts.clip or (self._clip_axis, "<", 1.0)
            if clip != (self.opts.clip is not None):
                self.set_clip(axis, side, 0.5 if clip else None)
            if self.opts.clip is not None:
                a = gui.slider_int(f"axis: {'xyz'[axis]}", axis, 0, dim - 1)
                keep_low = gui.checkbox(f"keep {'xyz'[a]} below", side == "<")
                f = gui.slider_float("position", frac, 0.0, 1.0)
                if (a, keep_low, f) != (axis, side == "<", frac):
                    self.set_clip(a, "<" if keep_low else ">", f)
            if self.source.replay:
                k = gui.slider_int("time", self.source.index, 0, len(self.source.run) - 1)
                if k != self.source.index:
                    self.source.seek(k)


def open_source(target: Path, precision: str | None, arch: str):
    """A replay source for a run folder, a live source for a scene file (InputError otherwise)."""
    from .. import backend

    if target.is_dir():
        run = RunData(target)
        ensure_backend(arch, "f32")
        return ReplaySource(run)
    if not target.exists():
        raise InputError(str(target), "not found (give a scene file or a run folder)")
    from ..config.loader import load_scene
    from ..config.resolve import resolve

    setup = resolve(load_scene(target), target.parent, precision)
    prec = precision or setup.scene.solver.precision
    backend.init(arch, prec)
    return LiveSource(setup, prec)
