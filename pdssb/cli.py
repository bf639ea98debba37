"""The ``pdssb`` command line: run a scene, check a scene, benchmark the kernel.

Bad input (a scene, an argument, an output folder) is one line on stderr and exit code 2, with
no traceback and no output folder left behind. ``--json`` puts a machine-readable summary on
stdout; progress and messages go to stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from .errors import InputError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="pdssb: peridynamics of solid-state battery electrolytes cracking under Li plating.")
err = Console(stderr=True)


_RENDERER_HELP = "auto (GGUI when Vulkan starts, else software), software or ggui"
_STYLE_HELP = "cracks (the broken bonds as crack faces over a smooth field) or sites (one square/sphere per site)"


def _fail(e: Exception) -> None:
    from rich.markup import escape

    msg = str(e).splitlines()[0] if str(e) else e.__class__.__name__
    # escaped: a message quotes the user's input, which may hold rich markup such as "[/bold]"
    err.print(f"[bold red]error[/]: {escape(msg)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _setup(scene_path: Path, precision: Optional[str]):
    from .config.loader import load_scene
    from .config.resolve import resolve

    scene = load_scene(scene_path)
    return resolve(scene, scene_path.parent, precision)


@app.command()
def run(
    scene: Optional[Path] = typer.Argument(None, help="scene file (TOML); not needed with --resume"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="run folder (default: runs/<scene name>)"),
    arch: str = typer.Option("auto", help="cpu, gpu or auto (CUDA when present, else CPU)"),
    precision: Optional[str] = typer.Option(None, help="f32 or f64 (default: the scene's solver.precision)"),
    overwrite: bool = typer.Option(False, help="replace an existing, non-empty run folder"),
    resume: Optional[Path] = typer.Option(None, "--resume", metavar="RUN_DIR",
                                          help="continue the run in RUN_DIR from its last checkpoint"),
    as_json: bool = typer.Option(False, "--json", help="print a machine-readable summary on stdout"),
    quiet: bool = typer.Option(False, help="no progress bar"),
    video: Optional[Path] = typer.Option(None, "--video", help="render a video while it runs (FILE.mp4, .gif or DIR/)"),
    video_field: str = typer.Option("damage", "--video-field", help="field of the --video frames"),
    video_resolution: str = typer.Option("1280x720", "--video-resolution", help="WIDTHxHEIGHT of --video"),
    video_style: str = typer.Option("cracks", "--video-style", help="--video: " + _STYLE_HELP),
    renderer: str = typer.Option("auto", "--renderer", help="--video: " + _RENDERER_HELP),
    write_figures: bool = typer.Option(True, "--figures/--no-figures", help="write RUN_DIR/figures (PNG + SVG) at the end"),
) -> None:
    """Run a scene and write its run folder (manifest, time series, VTU/PVD and NPZ snapshots)."""
    from . import api
    from .io.atomic import OutputWriteError

    video_opts = dict(video=video, video_field=video_field, video_resolution=video_resolution,
                      video_style=video_style, renderer=renderer)
    figures_failed = []

    def figures_warning(message: str) -> None:
        figures_failed.append(message)
        err.print(f"[yellow]warning[/]: {message}; retry with `pdssb figures {plan.out}`", highlight=False)

    try:
        if resume is not None:
            if scene is not None or out is not None or overwrite:
                raise InputError("--resume", "takes the run folder alone (no SCENE, --out or --overwrite)")
            plan = api.plan_resume(resume, arch=arch, precision=precision, **video_opts)
            if plan.finished:
                err.print(f"{resume}: the run has already finished (summary.json); nothing to resume", markup=False)
                raise typer.Exit(0)
        else:
            if scene is None:
                raise InputError("SCENE", "missing: give a scene file, or --resume RUN_DIR")
            plan = api.plan_run(scene, out or Path("runs") / scene.stem, arch=arch, precision=precision,
                                overwrite=overwrite, **video_opts)
        result = api.execute(plan, progress=not (quiet or as_json), figures=write_figures,
                             on_warning=figures_warning)
    except (InputError, OutputWriteError) as e:
        _fail(e)
    summary = result.summary
    out_dir = result.folder
    summary["run_dir"] = str(out_dir)
    if result.video is not None:
        summary["video"] = str(result.video)
        err.print(f"video: {result.video_frames} frames → {result.video} ({result.video_seconds:.1f} s drawing)")
    if write_figures and summary["status"] != "diverged" and not figures_failed:
        summary["figures"] = [str(p) for p in result.figures()]
    if result.divergence:
        from rich.markup import escape

        err.print(f"[bold red]error[/]: {escape(result.divergence)}", highlight=False, soft_wrap=True)
        raise typer.Exit(3)
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
    else:
        fail = ""
        if summary.get("failure_cause"):
            fail = f", failed at t = {summary['failure_time_s']:.4g} s ({summary['failure_cause']})"
        err.print(f"done: {summary['steps']} steps, {summary['bonds_broken']} bonds broken, "
                  f"max von Mises {summary['von_mises_max_MPa']:.4g} MPa{fail}, {summary['wall_time_s']:.1f} s → {out_dir}")


@app.command()
def check(scene: Path = typer.Argument(..., help="scene file (TOML)")) -> None:
    """Validate a scene (schema and physics checks) without running it."""
    try:
        setup = _setup(scene, None)
    except InputError as e:
        _fail(e)
    err.print(f"ok: {setup.lattice.n_sites} sites, {len(setup.names)} materials, "
              f"{setup.stencil.size} bonds per bulk site")


@app.command()
def sweep(
    sweep_file: Path = typer.Argument(..., metavar="SWEEP.toml", help="sweep file (TOML): base scene + parameters"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="sweep folder (default: runs/<sweep name>)"),
    workers: Optional[int] = typer.Option(None, help="worker processes of the local Dask cluster (default: cores)"),
    scheduler: Optional[str] = typer.Option(None, help="run on an existing Dask cluster: tcp://HOST:PORT"),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="rerun cases that failed before"),
    arch: str = typer.Option("auto", help="cpu, gpu or auto, for every case"),
    precision: Optional[str] = typer.Option(None, help="f32 or f64 (default: each scene's solver.precision)"),
    quiet: bool = typer.Option(False, help="no progress bar"),
) -> None:
    """Run every case of a sweep on Dask (skipping finished cases); write results.csv and a run folder per case."""
    from .io.atomic import OutputWriteError
    from .sweep.runner import run_sweep
    from .sweep.spec import load_sweep

    try:
        if workers is not None and not 1 <= workers <= 4096:
            raise InputError("--workers", "must lie between 1 and 4096")
        if arch not in ("auto", "cpu", "gpu", "cuda"):
            raise InputError("--arch", f"unknown backend '{arch}' (use cpu, gpu or auto)")
        if precision not in (None, "f32", "f64"):
            raise InputError("--precision", f"unknown precision '{precision}' (use f32 or f64)")
        sw = load_sweep(sweep_file, precision)
        counts = run_sweep(sw, out or Path("runs") / sweep_file.stem, workers, scheduler, retry_failed, arch,
                           precision, console=err, quiet=quiet)
    except (InputError, OutputWriteError) as e:
        _fail(e)
    if counts["failed"] and counts["ran"]:
        raise typer.Exit(1)


@app.command()
def bench(
    case: str = typer.Option("pmb-cube", help="benchmark case: pmb-cube (force kernel) or coupled (time to failure)"),
    size: int = typer.Option(40, help="N: the cube has (N+1)^3 sites"),
    steps: int = typer.Option(100, help="time steps to time"),
    precision: Optional[str] = typer.Option(None, help="f32 or f64 (pmb-cube: default f32; coupled: the scene's)"),
    arch: str = typer.Option("auto", help="cpu, gpu or auto"),
    as_json: bool = typer.Option(False, "--json", help="print the figures as JSON on stdout"),
    viewer: bool = typer.Option(False, "--viewer", help="time the viewer instead: frames/s, 2D image and 3D particles"),
    particles: int = typer.Option(1_000_000, help="--viewer: particles of the 3D scene"),
    side: int = typer.Option(500, help="--viewer: the 2D scene has side² sites"),
    renderer: str = typer.Option("auto", help="--viewer: " + _RENDERER_HELP),
    check: bool = typer.Option(False, "--check", help="compare with the recorded figure; exit 1 on a drop > --tolerance"),
    record: bool = typer.Option(False, "--record", help="append the figure to the records file"),
    records: Optional[Path] = typer.Option(None, "--records", help="records file (default: docs/bench_records.json)"),
    tolerance: float = typer.Option(0.2, help="--check: largest allowed drop (0.2 = 20 %)"),
    repeat: int = typer.Option(1, help="time the case this many times and keep the best"),
    memory: bool = typer.Option(False, "--memory", help="bytes per site of the model's arrays (2D/3D, f32/f64)"),
    memory_sizes: str = typer.Option("50,100,12,16", "--memory-sizes", help="--memory: n per side, 2D a,b and 3D a,b"),
    no_direct: bool = typer.Option(False, "--no-direct", help="--memory: skip the direct solvers' host factors"),
    startup: Optional[Path] = typer.Option(None, "--startup", metavar="SCENE",
                                           help="time `pdssb run SCENE` (its own precision) to the first step: "
                                                "cold, warm, values changed, dx/2"),
    scaling: bool = typer.Option(False, "--scaling", help="conduction and equilibrium solve time at 3 sizes"),
    scaling_sizes: str = typer.Option("40,80,160", "--scaling-sizes", help="--scaling: n per side of the 2D cell"),
    dx: Optional[float] = typer.Option(None, "--dx", help="coupled: lattice spacing in µm"),
    geometry: str = typer.Option("semi_sphere", help="coupled: the seed-000 defect (semi_sphere, cube, pyramid, "
                                                     "semi_ellipsoid)"),
    scene: Optional[Path] = typer.Option(None, "--scene", help="coupled: this scene instead of the seed-000 one"),
    method: Optional[str] = typer.Option(None, "--method", help="coupled: solver.method (default: the scene's)"),
    t_end: Optional[float] = typer.Option(None, "--t-end", help="coupled: end time in s (default: the scene's)"),
    scaling_solvers: Optional[str] = typer.Option(None, "--scaling-solvers",
                                                  help="--scaling: comma-separated subset of conduction/pcg, "
                                                       "conduction/lu, conduction/amg, mechanics/adr, mechanics/lu, "
                                                       "mechanics/amg, mechanics/device (default: all)"),
) -> None:
    """Time the force kernel (bond evaluations per second); --check/--record against docs/bench_records.json;
    --memory, --startup SCENE, --scaling, --viewer for the other figures (docs/benchmarks.md)."""
    from . import bench as B

    if viewer:
        return _bench_viewer(arch, side, particles, renderer, as_json)
    try:
        modes = [name for name, on in (("--memory", memory), ("--startup", startup is not None),
                                       ("--scaling", scaling)) if on]
        if len(modes) > 1:
            raise InputError(modes[1], f"cannot be combined with {modes[0]}")
        if modes and (check or record):
            raise InputError("--check" if check else "--record", "applies to the kernel case only, not " + modes[0])
        if not 0.0 < tolerance < 1.0:
            raise InputError("--tolerance", "must lie between 0 and 1 (0.2 = 20 %)")
        if not 1 <= repeat <= 100:
            raise InputError("--repeat", "must lie between 1 and 100")
        if case == "coupled" and (modes or check or record):
            raise InputError(modes[0] if modes else ("--check" if check else "--record"),
                             "does not apply to the coupled case")
        if case == "coupled" and precision is not None:
            raise InputError("--precision", "the coupled case runs at the scene's solver.precision")
        precision = precision or "f32"
        if precision not in ("f32", "f64"):
            raise InputError("--precision", f"unknown precision '{precision}' (use f32 or f64)")
        if memory:
            res = B.memory_cli(B.parse_sizes(memory_sizes, 4, "--memory-sizes"), not no_direct, arch, err)
        elif startup is not None:
            res = B.startup_cli(startup, arch, err)
        elif case == "coupled":
            res = B.coupled_cli(geometry, scene, dx, method, arch, t_end, err)
        elif scaling:
            res = B.scaling_cli(B.parse_sizes(scaling_sizes, 3, "--scaling-sizes"), precision, arch, err,
                                scaling_solvers, repeat if repeat > 1 else 3)  # default: best of 3
        else:
            res = B.throughput_cli(case, size, steps, precision, arch, repeat, check, record, records, tolerance, err)
    except InputError as e:
        _fail(e)
    text = res.pop("text")
    if as_json:
        sys.stdout.write(json.dumps(res, default=str) + "\n")
    else:
        print(text)
    if res.get("exit_code"):
        raise typer.Exit(res["exit_code"])


# ---------------------------------------------------------------- viewer, rendering, figures (pdssb.viz)
_FIELD_HELP = "damage, von_mises, hydrostatic, displacement, potential, current_density, li_fraction, material"


@app.command()
def render(
    run_dir: Path = typer.Argument(..., help="run folder (with snapshots/)"),
    out: Path = typer.Option(..., "--out", "-o", help="FILE.mp4, FILE.gif or DIR/ (PNG frames)"),
    field: str = typer.Option("damage", help=_FIELD_HELP),
    camera: Optional[str] = typer.Option(None, help="3D: iso, front, side, top or AZ,EL[,ZOOM] (degrees)"),
    fps: float = typer.Option(10.0, help="frames per second of the video"),
    resolution: str = typer.Option("1280x720", help="WIDTHxHEIGHT (even numbers for mp4)"),
    crack_only: Optional[float] = typer.Option(None, "--crack-only", help="show only sites with damage ≥ this"),
    clip: Optional[str] = typer.Option(None, help="clip plane, e.g. 'y<0.5' (fraction of the box)"),
    style: str = typer.Option("cracks", help=_STYLE_HELP),
    renderer: str = typer.Option("auto", help=_RENDERER_HELP),
    arch: str = typer.Option("auto", help="cpu, gpu or auto"),
    as_json: bool = typer.Option(False, "--json", help="print a summary as JSON on stdout"),
) -> None:
    """Render every snapshot of a run folder offscreen into a video, a GIF or PNG frames."""
    from .api import frame_options, open_run
    from .viz.compose import ensure_backend

    try:
        shown = dict(style=style, crack_only=crack_only, clip=clip, camera=camera, resolution=resolution)
        opts = frame_options(field, **shown)  # bad options before the folder
        run_folder = open_run(run_dir)
        ensure_backend(arch, "f32")
        res = run_folder.render(out, field, fps=fps, renderer=renderer, **shown)
    except InputError as e:
        _fail(e)
    if as_json:
        sys.stdout.write(json.dumps(res) + "\n")
    else:
        err.print(f"rendered {res['frames']} frames ({opts.field}, {res['renderer']}, {res['seconds']:.1f} s) → {out}")


@app.command()
def view(
    target: Path = typer.Argument(..., help="scene file (runs it live) or run folder (replay)"),
    field: str = typer.Option("damage", help=_FIELD_HELP),
    every: Optional[int] = typer.Option(None, help="draw every N steps (default: the scene's output.every)"),
    camera: Optional[str] = typer.Option(None, help="3D: iso, front, side, top or AZ,EL[,ZOOM]"),
    resolution: str = typer.Option("1280x720", help="WIDTHxHEIGHT"),
    crack_only: Optional[float] = typer.Option(None, "--crack-only", help="show only sites with damage ≥ this"),
    clip: Optional[str] = typer.Option(None, help="clip plane, e.g. 'y<0.5'"),
    offscreen: bool = typer.Option(False, help="no window: draw --frames frames and save --screenshot (CI)"),
    frames: int = typer.Option(10, help="--offscreen: frames to draw"),
    screenshot: Optional[Path] = typer.Option(None, help="--offscreen: PNG of the last frame"),
    style: str = typer.Option("cracks", help=_STYLE_HELP),
    renderer: str = typer.Option("auto", help=_RENDERER_HELP + " (a window needs GGUI)"),
    precision: Optional[str] = typer.Option(None, help="f32 or f64 (default: the scene's)"),
    arch: str = typer.Option("auto", help="cpu, gpu or auto"),
) -> None:
    """Watch a scene's simulation live (or replay a run folder) in a GGUI window, or offscreen."""
    from .api import frame_options
    from .viz.render import check_output
    from .viz.viewer import Viewer, has_display, open_source

    try:
        opts = frame_options(field, style=style, crack_only=crack_only, clip=clip, camera=camera, resolution=resolution)
        if not offscreen and not has_display():
            raise InputError("view", "no display (DISPLAY/WAYLAND_DISPLAY unset); use --offscreen --screenshot FILE.png")
        if every is not None and every < 1:
            raise InputError("--every", "must be at least 1")
        if screenshot is not None:
            if screenshot.suffix.lower() != ".png":
                raise InputError("--screenshot", "must be a .png file")
            check_output(screenshot.with_suffix(".gif"))  # the folder must be writable
        if not target.exists():
            raise InputError(str(target), "not found (give a scene file or a run folder)")
        source = open_source(target, precision, arch)
        n = every or (1 if source.replay else source.setup.scene.output.every)
        viewer = Viewer(source, opts, every=n, offscreen=offscreen, renderer=renderer)
        if offscreen:
            viewer.run_offscreen(frames, screenshot)
            if screenshot is not None:
                err.print(f"{viewer.frames} frames drawn ({source.label}); screenshot → {screenshot}")
        else:  # pragma: no cover - needs a display
            viewer.run_window()
    except InputError as e:
        _fail(e)


@app.command()
def figures(
    run_dir: Path = typer.Argument(..., help="run folder"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="folder (default: RUN_DIR/figures)"),
    y_um: float = typer.Option(5.0, "--y", help="height of the von Mises profile band, µm"),
    x_um: float = typer.Option(5.0, "--x", help="x of the damage profile band, µm"),
    band_um: float = typer.Option(1.0, "--band", help="band width, µm"),
) -> None:
    """Write the paper-style figures of a run folder (PNG and SVG)."""
    from .api import open_run

    try:
        paths = open_run(run_dir).figures(out, remake=True, y_um=y_um, x_um=x_um, band_um=band_um)
    except InputError as e:
        _fail(e)
    err.print(f"{len(paths)} files → {paths[0].parent if paths else out}")


def _bench_viewer(arch: str, side: int, particles: int, renderer: str, as_json: bool) -> None:
    from .viz.bench import viewer_bench
    from .viz.compose import ensure_backend

    try:
        if not 2 <= side <= 4000:
            raise InputError("--side", "must lie between 2 and 4000")
        if not 8 <= particles <= 20_000_000:
            raise InputError("--particles", "must lie between 8 and 20000000")
        ensure_backend(arch, "f32")
        res = viewer_bench(side=side, particles=particles, renderer=renderer)
    except InputError as e:
        _fail(e)
    if as_json:
        sys.stdout.write(json.dumps(res) + "\n")
    else:
        print(f"pdssb viewer: renderer={res['renderer']} arch={res['arch']} resolution={res['resolution'][0]}x{res['resolution'][1]} "
              f"2d_sites={res['sites_2d']} fps_2d={res['fps_2d']:.2f} 3d_particles={res['particles_3d']} "
              f"fps_3d={res['fps_3d']:.3f} fps_3d_crack_view={res['fps_3d_crack_view']:.3f}")


@app.command()
def validate(
    paper: str = typer.Argument(..., help="seed000 or seed003 (the paper side by side) or scenarios (the scenario "
                                "library)"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="output folder (default: out/validation/PAPER)"),
    scenes: Path = typer.Option(Path("scenes"), help="folder holding seed000_<shape>.toml"),
    jobs: int = typer.Option(1, help="cases run in parallel (processes)"),
    convergence: bool = typer.Option(False, help="also the semi-sphere at Δx/2 and at m = 4"),
    t_end: Optional[float] = typer.Option(None, "--t-end", help="simulated end time in s (default: the scenes')"),
    only: Optional[str] = typer.Option(None, help="comma-separated geometries (seed000; default: all four) or "
                                       "scenarios (default: all)"),
    set_: list[str] = typer.Option([], "--set", help='override for every case, KEY=VALUE in TOML, e.g. '
                                   '--set \'materials.LAGP.fracture_energy="0.01 J m^-2"\''),
    arch: str = typer.Option("cpu", help="cpu or gpu"),
    analyse_only: bool = typer.Option(False, "--analyse-only", help="no runs: tabulate the run folders in OUT/runs"),
    model: str = typer.Option("li-wedge", help="seed000: li-wedge (Li enters and pressurises cracks), paper "
                              "(the paper's damage law and failure rule) or paper-length (the same, the rule "
                              "read over 0.2 um at dx 0.05 um: converged)"),
    dim: int = typer.Option(2, "--dim", help="seed003: the 2D section (minutes) or the 3D cell (a GPU task)"),
    as_json: bool = typer.Option(False, "--json", help="seed000, seed003: print the per-case results as JSON"),
) -> None:
    """Reproduce a seed paper side by side: run its cases, tabulate, draw the figures (docs/validation.md)."""
    from .validation import seed000

    try:
        if paper not in ("seed000", "seed003", "scenarios"):
            raise InputError(paper, "unknown reproduction (available: seed000, seed003, scenarios)")
        if model not in seed000.MODELS:
            raise InputError("--model", f"unknown model '{model}' (available: {', '.join(seed000.MODELS)})")
        if not 1 <= jobs <= 64:
            raise InputError("--jobs", "must lie between 1 and 64")
        out = out if out is not None else Path("out/validation") / paper
        if paper == "seed003":
            _validate_seed003(out, scenes, jobs, only, dim, arch, as_json, bool(set_ or convergence or t_end is not None),
                              analyse_only)
            return
        if paper == "scenarios":
            from .validation import scenarios

            if set_ or convergence or t_end is not None:
                raise InputError("--set", "--set, --convergence and --t-end apply to seed000 only")
            names = [n.strip() for n in only.split(",")] if only else list(scenarios.SCENARIOS)
            for n in names:
                if n not in scenarios.SCENARIOS:
                    raise InputError("--only", f"unknown scenario '{n}' (available: {', '.join(scenarios.SCENARIOS)})")
                sw = scenarios.SCENARIOS[n].sweep
                if sw and not (scenes / sw).is_file():
                    raise InputError(str(scenes / sw), "sweep file not found")
            if analyse_only:
                for n in names:
                    sw = scenarios.SCENARIOS[n].sweep
                    if sw and not (out / n / "cases").is_dir():
                        raise InputError(str(out / n / "cases"), "no results to analyse (run it first)")
    except InputError as e:
        _fail(e)
    if paper == "scenarios":
        scenarios.validate(names, scenes, out, workers=jobs, run=not analyse_only, arch=arch)
        err.print((out / "report.md").read_text(), highlight=False, markup=False)
        err.print(f"→ {out}/results.json, report.md, figures/")
        return
    try:
        geos = tuple(g.strip() for g in only.split(",")) if only else seed000.GEOMETRIES
        for g in geos:
            if g not in seed000.GEOMETRIES:
                raise InputError("--only", f"unknown geometry '{g}' (available: {', '.join(seed000.GEOMETRIES)})")
            if not (scenes / f"seed000_{g}.toml").is_file():
                raise InputError(str(scenes / f"seed000_{g}.toml"), "scene not found")
        overrides = {}
        for item in set_:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise InputError("--set", f"'{item}' is not KEY=VALUE")
            from .config.loader import parse_scene_text

            overrides[key.strip()] = parse_scene_text(f"v = {value}", "--set")["v"]
    except InputError as e:
        _fail(e)
    if analyse_only and not (out / "runs").is_dir():
        _fail(InputError(str(out / "runs"), "no run folders to analyse"))
    report = seed000.validate(scenes, out, overrides, jobs, t_end, convergence, arch, geos, run=not analyse_only,
                              model=model)
    err.print((out / "table.md").read_text(), highlight=False, markup=False)
    err.print(f"→ {out}/results.json, table.md, figures/")
    if as_json:
        keys = ("failure_time_s", "failure_cause", "von_mises_max_12s_MPa", "damage_sum_12s", "bonds_broken")
        sys.stdout.write(json.dumps({"model": model, **{name: {k: r.get(k) for k in keys}
                                                        for name, r in report["results"].items()}}) + "\n")


def _validate_seed003(out: Path, scenes: Path, jobs: int, only: Optional[str], dim: int, arch: str, as_json: bool,
                      unsupported: bool, analyse_only: bool) -> None:
    """``pdssb validate seed003``: the paper's four studies on scenes/seed003_<dim>d.toml."""
    from .validation import seed003

    if unsupported:
        raise InputError("--set", "--set, --convergence and --t-end apply to seed000 only")
    if analyse_only and not (out / "cases").is_dir():
        raise InputError(str(out / "cases"), "no results to analyse (run it first)")
    if dim not in (2, 3):
        raise InputError("--dim", "must be 2 or 3")
    scene = scenes / f"seed003_{dim}d.toml"
    if not scene.is_file():
        raise InputError(str(scene), "scene not found")
    studies = tuple(x.strip() for x in only.split(",")) if only else tuple(seed003.STUDIES)
    for st in studies:
        if st not in seed003.STUDIES:
            raise InputError("--only", f"unknown study '{st}' (available: {', '.join(seed003.STUDIES)})")
    results = seed003.validate(scene, out, studies, jobs, arch, dim, run=not analyse_only)
    if as_json:
        print(json.dumps({case: dict(study=r["study"], **{k: r["metrics"][k] for k in (
            "D_G_ave_nm", "D_G_max_nm", "von_mises_max_GPa", "capacity_mAh")}) for case, r in results.items()},
            indent=2))
    else:
        err.print((out / "table.md").read_text(), highlight=False, markup=False)
    err.print(f"→ {out}/results.json, table.md, figures/")


def main() -> None:
    from .backend import import_taichi

    import_taichi()  # before anything else imports it, so its banner never reaches stdout
    try:
        app()
    except InputError as e:  # raised outside a command's own handling
        from rich.markup import escape

        err.print(f"[bold red]error[/]: {escape(str(e))}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
