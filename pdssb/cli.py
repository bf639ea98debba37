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


def _fail(e: Exception) -> None:
    msg = str(e).splitlines()[0] if str(e) else e.__class__.__name__
    err.print(f"[bold red]error[/]: {msg}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _setup(scene_path: Path, precision: Optional[str]):
    from .config.loader import load_scene
    from .config.resolve import resolve

    scene = load_scene(scene_path)
    return resolve(scene, scene_path.parent, precision)


@app.command()
def run(
    scene: Path = typer.Argument(..., help="scene file (TOML)"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="run folder (default: runs/<scene name>)"),
    arch: str = typer.Option("auto", help="cpu, gpu or auto (CUDA when present, else CPU)"),
    precision: Optional[str] = typer.Option(None, help="f32 or f64 (default: the scene's solver.precision)"),
    overwrite: bool = typer.Option(False, help="replace an existing, non-empty run folder"),
    as_json: bool = typer.Option(False, "--json", help="print a machine-readable summary on stdout"),
    quiet: bool = typer.Option(False, help="no progress bar"),
) -> None:
    """Run a scene and write its run folder (manifest, time series, VTU/PVD and NPZ snapshots)."""
    from .simulation import Simulation, prepare_run_dir

    try:
        setup = _setup(scene, precision)
        prec = precision or setup.scene.solver.precision
        from . import backend

        used = backend.init(arch, prec)
        out_dir = prepare_run_dir(out or Path("runs") / scene.stem, overwrite)
    except InputError as e:
        _fail(e)
    if setup.scene.electrochem is not None:
        from .coupled import CoupledSimulation

        sim = CoupledSimulation(setup, prec)
    else:
        sim = Simulation(setup, prec)
    summary = _run_with_progress(sim, out_dir, quiet or as_json, dict(arch=used, precision=prec, scene_file=str(scene)))
    summary["run_dir"] = str(out_dir)
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
    else:
        fail = ""
        if summary.get("failure_cause"):
            fail = f", failed at t = {summary['failure_time_s']:.4g} s ({summary['failure_cause']})"
        err.print(f"done: {summary['steps']} steps, {summary['bonds_broken']} bonds broken, "
                  f"max von Mises {summary['von_mises_max_MPa']:.4g} MPa{fail}, {summary['wall_time_s']:.1f} s → {out_dir}")


def _run_with_progress(sim, out_dir: Path, quiet: bool, extra: dict) -> dict:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from .io.atomic import OutputWriteError

    try:
        if quiet:
            return sim.run(out_dir, extra_manifest=extra)
        columns = [TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                   TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn()]
        with Progress(*columns, console=err, transient=False) as progress:
            task = progress.add_task(sim.setup.scene.title, total=None, info="")

            def on_step(done, total, row):
                t = f"t {row['time_s']:.4g} s  " if "current_mA" in row else ""
                progress.update(task, completed=done, total=total or None,
                                info=f"{t}broken {row['bonds_broken_total']}  σ_vm,max {row['von_mises_max_MPa']:.3g} MPa")

            return sim.run(out_dir, on_step=on_step, extra_manifest=extra)
    except OutputWriteError as e:
        _fail(e)


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
def bench(
    case: str = typer.Option("pmb-cube", help="benchmark case (pmb-cube)"),
    size: int = typer.Option(40, help="N: the cube has (N+1)^3 sites"),
    steps: int = typer.Option(100, help="time steps to time"),
    precision: str = typer.Option("f32", help="f32 or f64"),
    arch: str = typer.Option("auto", help="cpu, gpu or auto"),
    as_json: bool = typer.Option(False, "--json", help="print the figures as JSON on stdout"),
) -> None:
    """Time the force kernel and print directed bond evaluations per second."""
    from . import backend
    from .bench import pmb_cube

    try:
        if case != "pmb-cube":
            raise InputError("--case", f"unknown case '{case}' (available: pmb-cube)")
        if not 2 <= size <= 2000:
            raise InputError("--size", "must lie between 2 and 2000")
        if not 1 <= steps <= 1_000_000:
            raise InputError("--steps", "must lie between 1 and 1000000")
        backend.init(arch, precision)
    except InputError as e:
        _fail(e)
    res = pmb_cube(size, steps, precision)
    if as_json:
        sys.stdout.write(json.dumps(res) + "\n")
    else:
        print(f"pdssb {res['case']}: sites={res['sites']} directed_bonds={res['directed_bonds']} steps={steps} "
              f"precision={precision} arch={res['arch']} loop_s={res['loop_s']:.3f} "
              f"bond_evals_per_s={res['bond_evals_per_s']:.3e}")


def main() -> None:
    from .backend import import_taichi

    import_taichi()  # before anything else imports it, so its banner never reaches stdout
    try:
        app()
    except InputError as e:  # raised outside a command's own handling
        err.print(f"[bold red]error[/]: {e}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
