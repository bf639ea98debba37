"""``pdssb view``: watch a simulation live, or replay a run folder, through GGUI.

The viewer draws with :class:`~pdssb.viz.frame.Renderer`, the same code as ``pdssb render``.
A live source runs the scene's simulation in the viewer's process and draws every N steps; a
replay source steps through the snapshots of a run folder (with a time slider).

Controls (live window): space pause/resume, n single step, +/- speed (steps per frame), r reset,
p screenshot, f next field, c crack view on/off, [ ] move the clip plane, k clip axis, arrows or
right-mouse drag orbit (3D; left/right step through a replay), z/x zoom, Esc quit. The same keys
drive :meth:`Viewer.handle_key`, which the offscreen mode and the tests use.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import InputError
from .colormaps import FIELDS
from .data import RunData, SnapshotData
from .frame import FrameOptions, Renderer, ensure_backend

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
        lat = self.setup.lattice
        if self._fields is None:
            self._fields = self.sim.snapshot_fields()
        info = dict(self.sim.records[-1]) if self.sim.records else {}
        failure = getattr(self.sim, "failure", None)
        if failure:
            info["failure"] = str(failure[1]).replace("_", " ")
        return SnapshotData(tuple(lat.shape), lat.dx, tuple(lat.origin), self._fields, self.sim.model.time,
                            self.step, self.setup.scene.title, list(self.setup.names), info)

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
                 screenshot_dir: Path = Path("."), fields: list[str] | None = None):
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
        self.renderer = Renderer(self.opts.resolution, show_window=not offscreen, name="pdssb view")
        self.last_frame: np.ndarray | None = None
        self.frames = 0
        self._clip_axis = (self.opts.clip[0] if self.opts.clip else snap.dim - 2)
        self._drag: tuple[float, float] | None = None
        self._threshold = self.opts.crack_only if self.opts.crack_only is not None else 0.3

    # ------------------------------------------------------------ controls
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
            self.opts = replace(o, field=self.fields[(i + 1) % len(self.fields)], value_range=None)
        elif key == "c":
            self.opts = replace(o, crack_only=None if o.crack_only is not None else self._threshold)
        elif key in ("[", "]"):
            axis, side, frac = o.clip or (self._clip_axis, "<", 1.0)
            frac = float(np.clip(frac + (0.05 if key == "]" else -0.05), 0.0, 1.0))
            self.opts = replace(o, clip=None if frac >= 1.0 and side == "<" else (axis, side, frac))
        elif key == "k":
            dim = self.source.snapshot().dim
            self._clip_axis = (self._clip_axis + 1) % dim
            if o.clip:
                self.opts = replace(o, clip=(self._clip_axis, o.clip[1], o.clip[2]))
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
            self._panel()
            win.show()

    def _panel(self) -> None:  # pragma: no cover - needs a display
        gui = self.renderer.window.get_gui()
        with gui.sub_window("controls", 0.005, 0.58, 0.23, 0.41):
            gui.text(f"{self.source.label}  speed x{self.speed}  every {self.every}")
            if gui.button("resume" if self.paused else "pause"):
                self.handle_key(" ")
            if gui.button("single step"):
                self.handle_key("n")
            if gui.button("reset"):
                self.handle_key("r")
            if gui.button("screenshot"):
                self.handle_key("p")
            if gui.button(f"field: {self.opts.field} (next)"):
                self.handle_key("f")
            crack = gui.checkbox("crack view", self.opts.crack_only is not None)
            if crack != (self.opts.crack_only is not None):
                self.handle_key("c")
            if self.opts.crack_only is not None:
                t = gui.slider_float("damage threshold", self.opts.crack_only, 0.0, 1.0)
                self._threshold = t
                self.opts = replace(self.opts, crack_only=t)
            if self.source.snapshot().dim == 3:
                axis, side, frac = self.opts.clip or (self._clip_axis, "<", 1.0)
                frac = gui.slider_float(f"clip {'xyz'[axis]} {side}", frac, 0.0, 1.0)
                self.opts = replace(self.opts, clip=None if frac >= 1.0 else (axis, side, frac))
            if self.source.replay:
                i = gui.slider_int("time", self.source.index, 0, len(self.source.run) - 1)
                if i != self.source.index:
                    self.source.seek(i)


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
