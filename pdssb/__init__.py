"""pdssb: peridynamics of solid-state battery electrolytes cracking under Li plating.

The Python API (docs/api.md): :func:`load_scene`, :func:`run`, :func:`resume`, :func:`open_run`
and the :class:`Run` they return. ``import pdssb`` is cheap: Taichi, NumPy and pandas are imported
when a function needs them.
"""

from .api import Frame, Run, Snapshot, load_scene, open_run, resume, run
from .errors import InputError

__all__ = ["Frame", "InputError", "Run", "Snapshot", "load_scene", "open_run", "resume", "run"]
