"""pdssb from Python: load a scene, run it, look at a run folder (docs/api.md).

::

    import pdssb
    scene = pdssb.load_scene("scenes/seed000_semi_sphere.toml", electrochem={"t_end": "20 s"})
    run = pdssb.run(scene)                # a fresh folder under the system's temp folder
    run.timeseries                        # pandas DataFrame of timeseries.csv
    run.frame("damage", t=12)             # shown inline by Jupyter (software renderer, no Vulkan)
    pdssb.open_run("runs/quickstart").snapshot(12)["damage"]

``pdssb run``, ``pdssb render`` and ``pdssb figures`` are a layer over this module: the command
line adds its progress bar, messages and exit codes, and the work is done here. A run is planned
first (:func:`plan_run`, :func:`plan_resume`: every input checked, Taichi started, nothing but the
empty run folder written), then executed (:func:`execute`). Bad input raises
:class:`~pdssb.errors.InputError` naming the field, as on the command line.

Importing this module (and ``pdssb``) imports neither Taichi nor pandas; each function imports
what it needs.
"""

from __future__ import annotations

import math
import os
import tempfile
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence, Union

from .errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from .config.resolve import Setup
    from .config.schema import Scene
    from .viz.data import RunData
    from .viz.options import FrameOptions
    from .viz.render import LiveVideo

__all__ = ["Frame", "Run", "Snapshot", "execute", "frame_options", "load_scene", "open_run", "plan_resume",
           "plan_run", "resume", "run"]

PathLike = Union[str, "os.PathLike[str]"]
#: ``on_step(done, total, row)``: after every step; ``total`` is None when the run's length is not known
StepCallback = Callable[[float, Union[float, None], dict], None]


# ---------------------------------------------------------------- scenes
def load_scene(path: PathLike, **overrides: Any) -> Scene:
    """Read and validate a scene file, with overrides; returns the :class:`~pdssb.config.schema.Scene`.

    An override is a dotted key, with the meaning of ``pdssb validate --set``:
    ``load_scene(p, **{"domain.dx": "0.1 um", "defects.0.radius": "1.5 um"})`` (list entries by
    number); or a table given as a dict, merged key by key into the scene's:
    ``load_scene(p, electrochem={"t_end": "10 s"})``. Values are what the TOML file would hold
    (quantities as strings with units). Schema errors raise :class:`~pdssb.errors.InputError` naming
    the field (``domain.dx: ...``); physics checks (a Δx that does not divide the domain, a lattice
    too coarse for a defect) come when the scene is run (:func:`run`), before anything is written.
    """
    from .config.loader import read_scene_file, set_dotted, validate_scene

    data = read_scene_file(path)
    for key, value in _flatten(overrides):
        if not all(key.split(".")):
            raise InputError(key, 'not a dotted scene key such as "domain.dx"')
        set_dotted(data, key, value)
    scene = validate_scene(data)
    scene._source_file = str(Path(path).resolve())
    return scene


def _flatten(overrides: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, value) pairs: a non-empty dict value becomes one key per entry (merged into the table)."""
    for key, value in overrides.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from _flatten(value, full + ".")
        else:
            yield full, value


def _quiet_taichi() -> None:
    """Import Taichi as the command line does (no banner on stdout), before a module that needs it."""
    from .backend import import_taichi

    import_taichi()


def _scene_and_source(scene: PathLike | Scene, precision: str | None) -> tuple[Setup, str | None, str]:
    """(resolved setup, the scene file's name or None, the scene's TOML text for ``--resume``)."""
    from .config.loader import dump_scene, load_scene as read_scene
    from .config.resolve import resolve
    from .config.schema import Scene

    if isinstance(scene, Scene):
        source = scene._source_file
        setup = resolve(scene, Path(source).parent if source else Path.cwd(), precision)
        return setup, source, dump_scene(scene)
    if not isinstance(scene, (str, os.PathLike)):
        raise InputError("scene", f"give a scene file or a Scene from pdssb.load_scene, not {type(scene).__name__}")
    path = Path(scene)
    setup = resolve(read_scene(path), path.parent, precision)
    return setup, str(path), path.read_text(encoding="utf-8")


# ---------------------------------------------------------------- running
@dataclass
class RunPlan:
    """A checked run, ready to execute: made by :func:`plan_run` or :func:`plan_resume`."""

    setup: Setup | None
    out: Path
    arch: str  # the backend Taichi started on: "cpu" or "cuda"
    precision: str
    scene_file: str | None
    source_text: str | None  # None when resuming (the folder keeps it)
    resume: bool = False
    finished: bool = False  # plan_resume: the run has already finished; there is nothing to execute
    video: LiveVideo | None = None


def plan_run(scene: PathLike | Scene, out: PathLike | None = None, *, arch: str = "auto",
             precision: str | None = None, overwrite: bool = False, video: PathLike | None = None,
             video_field: str = "damage", video_resolution: str | Sequence[int] = "1280x720",
             video_style: str = "cracks", renderer: str = "auto") -> RunPlan:
    """Check everything a run needs and start Taichi; the only thing written is the empty run folder
    (and the video's folder). Arguments as for :func:`run`."""
    _quiet_taichi()
    from . import backend
    from .io.run_folder import prepare_run_dir

    setup, scene_file, source = _scene_and_source(scene, precision)
    prec = precision or setup.scene.solver.precision
    used = backend.init(arch, prec)
    live = _live_video(setup, video, video_field, video_resolution, video_style, renderer)
    if out is None:
        stem = Path(scene_file).stem if scene_file else "scene"
        out = tempfile.mkdtemp(prefix=f"pdssb-{stem}-")
    return RunPlan(setup, prepare_run_dir(Path(out), overwrite), used, prec, scene_file, source, video=live)


def plan_resume(folder: PathLike, *, arch: str = "auto", precision: str | None = None,
                video: PathLike | None = None, video_field: str = "damage",
                video_resolution: str | Sequence[int] = "1280x720", video_style: str = "cracks",
                renderer: str = "auto") -> RunPlan:
    """Check that the run in ``folder`` can continue from its last checkpoint and start Taichi.
    A finished run gives a plan with ``finished`` set and nothing else done."""
    _quiet_taichi()
    from . import backend
    from .io.checkpoint import load_resume

    folder = Path(folder)
    setup, manifest, finished = load_resume(folder, precision)
    scene_file = manifest.get("scene_file") or str(folder / "scene.toml")
    prec = manifest.get("precision") or setup.scene.solver.precision
    if finished:
        return RunPlan(None, folder, "", prec, scene_file, None, resume=True, finished=True)
    used = backend.init(arch, prec)
    live = _live_video(setup, video, video_field, video_resolution, video_style, renderer)
    return RunPlan(setup, folder, used, prec, scene_file, None, resume=True, video=live)


def _live_video(setup, video, field, resolution, style, renderer) -> LiveVideo | None:
    """The video drawn while the run goes (an ``on_frame`` callback: a frame per step), checked before the run
    starts."""
    if video is None:
        return None
    from .viz.render import LiveVideo

    return LiveVideo(setup, Path(video), frame_options(field, style=style, resolution=resolution), renderer=renderer)


def execute(plan: RunPlan, *, progress: bool | StepCallback = False, figures: bool = True,
            on_warning: Callable[[str], None] | None = None) -> Run:
    """Run a plan to the end: the run folder, the video, then the figures (``figures``; not for a
    diverged run). ``progress``: True for a progress bar on stderr, or ``on_step(done, total, row)``.
    A figure that cannot be drawn does not fail the run: ``on_warning(message)`` is called (default:
    a Python warning) and :meth:`Run.figures` can retry."""
    from .factory import make_simulation

    if plan.finished:
        return Run(plan.out)
    sim = make_simulation(plan.setup, plan.precision)
    live = plan.video
    if live is not None:
        live.records = sim.records  # the frames' on-screen numbers come from the latest row
    extra = dict(arch=plan.arch, precision=plan.precision, scene_file=plan.scene_file)
    try:
        with _progress(progress, sim.setup.scene.title) as on_step:
            summary = sim.run(plan.out, on_step=on_step, extra_manifest=extra, resume=plan.resume,
                              source_text=plan.source_text, on_frame=live)
    except BaseException:
        if live is not None:
            live.close()  # a readable video of what was drawn
        raise
    result = Run(plan.out, summary)
    if live is not None:
        result.video = live.close()
        result.video_frames, result.video_seconds = live.sink.frames, live.seconds
    if figures and summary["status"] != "diverged":
        from .viz.figures import figures_for_run

        try:
            result._figures = figures_for_run(plan.out)
        except Exception as e:  # noqa: BLE001 - the run itself succeeded; figures can be remade
            (on_warning or warnings.warn)(f"figures not written ({e})")
    return result


@contextmanager
def _progress(progress: bool | StepCallback, title: str) -> Iterator[StepCallback | None]:
    """The ``on_step`` callback of a run: the caller's, a rich progress bar on stderr, or none."""
    if callable(progress):
        yield progress
        return
    if not progress:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = [TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
               TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(title, total=None, info="")

        def on_step(done, total, row):
            t = f"t {row['time_s']:.4g} s  " if "current_mA" in row else ""
            bar.update(task, completed=done, total=total or None,
                       info=f"{t}broken {row['bonds_broken_total']}  σ_vm,max {row['von_mises_max_MPa']:.3g} MPa")

        yield on_step


def run(scene: PathLike | Scene, out: PathLike | None = None, *, arch: str = "auto", precision: str | None = None,
        overwrite: bool = False, video: PathLike | None = None, video_field: str = "damage",
        video_resolution: str | Sequence[int] = "1280x720", video_style: str = "cracks", renderer: str = "auto",
        figures: bool = True, progress: bool | StepCallback = False) -> Run:
    """Run a scene (a file, or a :class:`Scene` from :func:`load_scene`) into a run folder; returns its :class:`Run`.

    ``out``: the run folder; None makes a fresh one, ``pdssb-<scene>-XXXXXXXX`` in the system's
    temporary folder (``tempfile.gettempdir()``: ``$TMPDIR``, else ``/tmp``), which nothing removes.
    An existing non-empty ``out`` is refused unless ``overwrite``. ``arch``: "cpu", "gpu" or "auto";
    ``precision``: "f32" or "f64" (default: the scene's ``solver.precision``). ``video``: a file
    (.mp4, .gif) or a folder of PNGs drawn while the run goes, of ``video_field`` in ``video_style``
    ("cracks" or "sites"), by ``renderer`` ("auto", "software" or "ggui"). ``figures``: write the
    paper-style figures into ``<out>/figures``. ``progress``: True for a progress bar on stderr, or a
    callable ``on_step(done, total, row)``.

    A run that diverges is returned too, with a RuntimeWarning: ``run.summary["status"] ==
    "diverged"``, and ``diagnostic.json`` in the folder says where. Bad input raises :class:`~pdssb.errors.InputError`
    before anything is written.
    """
    plan = plan_run(scene, out, arch=arch, precision=precision, overwrite=overwrite, video=video,
                    video_field=video_field, video_resolution=video_resolution, video_style=video_style,
                    renderer=renderer)
    return _said_if_diverged(execute(plan, progress=progress, figures=figures))


def resume(folder: PathLike, *, arch: str = "auto", precision: str | None = None, video: PathLike | None = None,
           video_field: str = "damage", video_resolution: str | Sequence[int] = "1280x720",
           video_style: str = "cracks", renderer: str = "auto", figures: bool = True,
           progress: bool | StepCallback = False) -> Run:
    """Continue a killed run from its last checkpoint (``pdssb run --resume``); a finished run is
    returned as it is. Arguments as for :func:`run`."""
    plan = plan_resume(folder, arch=arch, precision=precision, video=video, video_field=video_field,
                       video_resolution=video_resolution, video_style=video_style, renderer=renderer)
    return _said_if_diverged(execute(plan, progress=progress, figures=figures))


def _said_if_diverged(result: Run) -> Run:
    """A diverged run is returned, not raised (its folder is worth a look); a warning says so."""
    if result.divergence:
        warnings.warn(result.divergence, RuntimeWarning, stacklevel=3)
    return result


def open_run(folder: PathLike) -> Run:
    """The :class:`Run` of a run folder, finished or still being written."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(str(folder), "run folder not found")
    if not any((folder / name).exists() for name in ("manifest.json", "timeseries.csv", "snapshots")):
        raise InputError(str(folder), "not a run folder (no manifest.json, timeseries.csv or snapshots/)")
    return Run(folder)


# ---------------------------------------------------------------- frames
def frame_options(field: str = "damage", *, style: str = "cracks", crack_only: float | None = None,
                  clip: str | Sequence | None = None, camera: str | Sequence[float] | None = None,
                  resolution: str | Sequence[int] = "1280x720", value_range: Sequence[float] | None = None,
                  overlay: bool = True) -> FrameOptions:
    """What a frame shows, checked: the command line's text (``clip="y<0.5"``, ``camera="iso"``,
    ``resolution="800x600"``) or Python values (``clip=(1, "<", 0.5)``, ``camera=(-60, 25)``,
    ``resolution=(800, 600)``)."""
    from .viz.options import FrameOptions, parse_camera, parse_clip, parse_resolution

    if clip is not None and not isinstance(clip, str):
        if len(clip) != 3:
            raise InputError("--clip", f"{clip!r} is not (axis, '<' or '>', fraction)")
        axis, side, frac = clip
        clip = f"{'xyz'[axis] if isinstance(axis, int) and 0 <= axis < 3 else axis}{side}{frac}"
    if camera is not None and not isinstance(camera, str):
        camera = ",".join(str(v) for v in camera)
    if not isinstance(resolution, str):
        resolution = "x".join(str(v) for v in resolution)
    if crack_only is not None:
        crack_only = _number(crack_only, "--crack-only")
    if value_range is not None:
        if len(value_range) != 2:
            raise InputError("value_range", f"{value_range!r} is not (lo, hi)")
        lo, hi = (_number(v, "value_range") for v in value_range)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise InputError("value_range", f"({lo:g}, {hi:g}) is not a finite range with lo < hi")
        value_range = (lo, hi)
    return FrameOptions(field=field, style=style, crack_only=crack_only, clip=parse_clip(clip),
                        camera=parse_camera(camera), resolution=parse_resolution(resolution),
                        value_range=value_range, overlay=overlay).validated()


def _number(value: Any, where: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(where, f"{value!r} is not a number") from None


class Frame:
    """One drawn frame: Jupyter shows it inline; ``to_numpy()`` is the H × W × 3 uint8 image."""

    def __init__(self, image: np.ndarray, field: str, time: float, step: int):
        self._image = image
        self.field, self.time, self.step = field, time, step

    def to_numpy(self) -> np.ndarray:
        return self._image.copy()

    def __array__(self, dtype=None, copy=None):  # np.asarray(frame), plt.imshow(frame)
        image = self._image if dtype is None else self._image.astype(dtype, copy=False)
        return image.copy() if copy and image is self._image else image

    @property
    def shape(self) -> tuple[int, ...]:
        return self._image.shape

    def _encode(self, suffix: str) -> bytes:
        import imageio.v3 as iio

        return iio.imwrite("<bytes>", self._image, extension=suffix)

    def _repr_png_(self) -> bytes:
        return self._encode(".png")

    def save(self, path: PathLike) -> Path:
        """Write the frame as PNG or JPEG (by the suffix), atomically; returns the path."""
        from .io.atomic import atomic_write_bytes

        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".png", ".jpg", ".jpeg"):
            raise InputError(str(path), "save a frame as .png, .jpg or .jpeg")
        return atomic_write_bytes(path, self._encode(suffix))

    def __repr__(self) -> str:
        h, w = self._image.shape[:2]
        return f"<pdssb Frame {self.field} at t = {self.time:.4g} s (step {self.step}), {w}x{h}>"


# ---------------------------------------------------------------- a run folder
class Snapshot(dict):
    """One snapshot: NumPy arrays by field name (``damage``, ``von_mises_Pa``, ``displacement_m``,
    ``material``, ``bond_bits`` ...; one row per site) and ``positions`` (n_sites × dim, m, the
    reference lattice); ``time`` (s) and ``step`` as attributes."""

    def __init__(self, arrays: Mapping[str, np.ndarray], time: float, step: int):
        super().__init__(arrays)
        self.time, self.step = time, step

    def __repr__(self) -> str:
        return f"<pdssb Snapshot t = {self.time:.4g} s (step {self.step}): {', '.join(self)}>"


class Run:
    """A run folder (written by :func:`run` or ``pdssb run``): its summary, time series, snapshots,
    frames and figures. Files are read when asked for, so a run still being written shows what is
    on disk then."""

    def __init__(self, folder: PathLike, summary: dict | None = None):
        self.folder = Path(folder)
        self._summary = summary
        self._data: RunData | None = None
        self._data_count = -1
        self._figures: list[Path] | None = None
        #: the video :func:`run` drew (None without one), its frame count and drawing time (s)
        self.video: Path | None = None
        self.video_frames, self.video_seconds = 0, 0.0

    def __repr__(self) -> str:
        s = self.summary
        state = f"{s.get('status')}, {s.get('steps')} steps" if s else "not finished"
        return f"<pdssb Run {str(self.folder)!r}: {state}>"

    def _json(self, name: str) -> dict:
        import json

        path = self.folder / name
        if not path.is_file():
            return {}
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise InputError(str(path), f"unreadable ({e})") from None

    @property
    def summary(self) -> dict:
        """The run's key figures (``summary.json``): status, steps, broken bonds, peak stress, failure
        time ...; empty while the run is going."""
        return dict(self._summary) if self._summary is not None else self._json("summary.json")

    @property
    def divergence(self) -> str | None:
        """For a run that diverged, one line: the step, the field, and where the diagnostic is; else None."""
        s = self.summary
        if s.get("status") != "diverged":
            return None
        d = s.get("diagnostic", {})
        return (f"run diverged at step {d.get('step')} ({d.get('field')}: {d.get('kind')}); "
                f"see {self.folder / 'diagnostic.json'}")

    @property
    def manifest(self) -> dict:
        """``manifest.json``: the resolved scene, material sources, versions, backend, wall time."""
        return self._json("manifest.json")

    @property
    def timeseries(self) -> pd.DataFrame:
        """``timeseries.csv`` as a DataFrame, one row per step, float64 columns named as in the file
        (units in the names: ``time_s``, ``von_mises_max_MPa``, ``current_mA`` ...)."""
        import pandas as pd

        from .io.timeseries import read_timeseries

        path = self.folder / "timeseries.csv"
        if not path.is_file():
            raise InputError(str(path), "no time series in this run folder")
        try:
            return pd.DataFrame(read_timeseries(path))
        except ValueError as e:
            raise InputError(str(path), str(e).splitlines()[0]) from None

    def _run_data(self) -> RunData:
        """The snapshots' reader, renewed when snapshots were added since it was made."""
        _quiet_taichi()  # the crack drawing's stencil comes from resolving the run's scene
        from .viz.data import RunData

        count = len(list((self.folder / "snapshots").glob("*.npz")))
        if self._data is None or count != self._data_count:
            self._data, self._data_count = RunData(self.folder), count
        return self._data

    @property
    def times(self) -> np.ndarray:
        """The snapshot times (s), in order."""
        import numpy as np

        times = []
        for path in self._run_data().snapshot_files:
            with np.load(path) as z:  # reads the one array
                times.append(float(z["time"]))
        return np.array(times)

    def _index(self, t: float | str | None) -> int:
        """The snapshot at or nearest before time ``t`` (s, or a string with a unit); None: the last."""
        import numpy as np

        times = self.times
        if t is None:
            return len(times) - 1
        if isinstance(t, str):
            from .units import UnitError, parse_quantity

            try:
                t = parse_quantity(t, "time")
            except UnitError as e:
                raise InputError("t", str(e)) from None
        t = float(t)
        if not math.isfinite(t):
            raise InputError("t", f"{t} is not a time")
        tol = 1e-9 * max(abs(t), float(np.abs(times).max()))  # a time printed from run.times hits its snapshot
        i = int(np.searchsorted(times, t + tol, side="right")) - 1
        if i < 0:
            raise InputError("t", f"{t:.4g} s is before the first snapshot ({times[0]:.4g} s)")
        return i

    def snapshot(self, t: float | str | None = None) -> Snapshot:
        """The snapshot at or nearest before time ``t`` (s, or ``"12 s"``; None: the last one)."""
        snap = self._run_data().snapshot(self._index(t))
        return Snapshot({**snap.fields, "positions": snap.positions()}, snap.time, snap.step)

    def frame(self, field: str = "damage", t: float | str | None = None, **options: Any) -> Frame:
        """The snapshot at or before ``t`` drawn by the software renderer (no Vulkan needed).

        ``options`` as for :func:`frame_options`: ``style`` ("cracks" or "sites"), ``crack_only``,
        ``clip``, ``camera``, ``resolution``, ``value_range``, ``overlay``. Fields: damage,
        von_mises, hydrostatic, displacement, potential, current_density, li_fraction, material.
        """
        opts = frame_options(field, **options)
        snap = self._run_data().snapshot(self._index(t))
        from .viz.software import SoftwareRenderer
        image = SoftwareRenderer(opts.resolution).draw(snap, opts)
        return Frame(image, opts.field, snap.time, snap.step)

    def render(self, out: PathLike, field: str = "damage", *, fps: float = 10.0, renderer: str = "auto",
               **options: Any) -> dict:
        """Every snapshot into a video (.mp4, .gif) or a folder of PNGs (``pdssb render``); returns
        {frames, out, kind, seconds, resolution, renderer}. ``options`` as for :meth:`frame`."""
        from .viz.render import render_run

        opts = frame_options(field, **options)
        self._run_data()  # a folder without snapshots is refused before the output is touched
        return render_run(self.folder, Path(out), opts, fps, renderer=renderer)

    def figures(self, out: PathLike | None = None, *, remake: bool = False, y_um: float = 5.0, x_um: float = 5.0,
                band_um: float = 1.0) -> list[Path]:
        """The paper-style figures (PNG and SVG; ``pdssb figures``), in ``out`` (default
        ``<folder>/figures``): made when one is missing or ``remake``, else the files there.
        ``y_um``, ``x_um``, ``band_um``: where the von Mises and damage profiles are taken."""
        from .viz.figures import FIGURES, FORMATS, figures_for_run
        from .viz.render import check_output

        target = self.folder / "figures" if out is None else Path(out)
        if out is None and not remake and self._figures is not None:
            return list(self._figures)
        have = [target / f"{stem}.{fmt}" for stem in FIGURES for fmt in FORMATS]
        if not remake and all(p.is_file() for p in have):
            return have
        check_output(Path(str(target) + "/"))
        self._run_data()  # Taichi imported quietly; a folder without snapshots refused
        paths = figures_for_run(self.folder, target, y_um=y_um, x_um=x_um, band_um=band_um)
        if out is None:
            self._figures = paths
        return paths

