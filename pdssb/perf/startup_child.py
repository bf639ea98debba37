"""The child process of the start-up bench (perf/startup.py): what ``pdssb run SCENE --quiet
--no-figures`` does, up to the end of its first step, with time stamps; then it exits.

``python -m pdssb.perf.startup_child SCENE OUT ARCH [PRECISION]``, with ``$PDSSB_STARTUP_STAMPS``
naming the file for the stamps (``time.time()``): ``imported`` (Python, Taichi and the run path of
pdssb imported), ``sim_init`` (scene read and resolved, backend initialised, run folder made),
``run`` (the simulation built: the model set-up) and ``first_step`` (the run folder started and the
first step taken).
"""

import json
import os
import sys
import time
from pathlib import Path

STAMP_ENV = "PDSSB_STARTUP_STAMPS"


def main(argv: list[str]) -> None:
    stamps = dict(python_up=time.time())
    scene, out, arch = Path(argv[0]), Path(argv[1]), argv[2]
    precision = argv[3] if len(argv) > 3 else None

    from ..backend import import_taichi

    import_taichi()
    from .. import backend, coupled  # noqa: F401 - coupled: imported here, as `pdssb run` of a coupled scene does
    from ..config.loader import load_scene
    from ..config.resolve import resolve
    from ..factory import make_simulation
    from ..io.run_folder import RunFolder, prepare_run_dir

    stamps["imported"] = time.time()
    setup = resolve(load_scene(scene), scene.parent, precision)
    prec = precision or setup.scene.solver.precision
    used = backend.init(arch, prec)
    out_dir = prepare_run_dir(out, overwrite=True)
    stamps["sim_init"] = time.time()
    sim = make_simulation(setup, prec)
    stamps["run"] = time.time()
    RunFolder(out_dir, sim).start(dict(arch=used, precision=prec, scene_file=str(scene)),
                                  scene.read_text(encoding="utf-8"))
    next(iter(sim.steps()))
    stamps["first_step"] = time.time()
    Path(os.environ[STAMP_ENV]).write_text(json.dumps(stamps))
    try:  # Taichi writes its offline cache when the program is finalised (at exit, or here)
        import taichi as ti

        ti.reset()
    except Exception:  # noqa: BLE001 - the stamps are written; a cache not written shows as a cold warm run
        pass
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
