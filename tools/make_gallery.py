#!/usr/bin/env python3
"""Regenerate the README gallery in renders/ from scenes or finished run folders.

    python3 tools/make_gallery.py scenes/pyramid_swelling.toml            # runs it into runs/gallery/
    python3 tools/make_gallery.py runs/seed000_cube runs/seed000_pyramid  # finished (coupled) runs

For each argument it writes renders/<name>_damage.png (last snapshot, damage), renders/<name>_von_mises.png
and renders/<name>_damage.gif (every snapshot, small and looping), all through `pdssb render`, the
viewer's drawing code (offscreen GGUI). It refuses to leave more than --max-mb in renders/.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pdssb(*args: str) -> None:
    cmd = [sys.executable, "-m", "pdssb.cli", *args]
    print("+ pdssb " + " ".join(args), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT)


def last_frame(run_dir: Path, field: str, out: Path, resolution: str, arch: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pdssb("render", str(run_dir), "--out", tmp + "/", "--field", field, "--resolution", resolution, "--arch", arch)
        frames = sorted(Path(tmp).glob("frame_*.png"))
        shutil.copyfile(frames[-1], out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inputs", nargs="+", type=Path, help="scene files (run first) or run folders")
    ap.add_argument("--out", type=Path, default=ROOT / "renders")
    ap.add_argument("--runs", type=Path, default=ROOT / "runs" / "gallery", help="where scenes are run")
    ap.add_argument("--arch", default="auto")
    ap.add_argument("--max-mb", type=float, default=3.0)
    ap.add_argument("--png-fields", default="damage,von_mises", help="fields drawn as last-frame PNGs")
    ap.add_argument("--gif-field", default="damage", help="field of the GIF (material shows Li-filled cracks)")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for item in a.inputs:
        if item.is_dir():
            run_dir, name = item, item.name
        else:
            name = item.stem
            run_dir = a.runs / name
            pdssb("run", str(item), "--out", str(run_dir), "--overwrite", "--quiet", "--no-figures", "--arch", a.arch)
        for field in a.png_fields.split(","):
            png = a.out / f"{name}_{field}.png"
            last_frame(run_dir, field, png, "960x540", a.arch)
            written.append(png)
        gif = a.out / f"{name}_{a.gif_field}.gif"
        pdssb("render", str(run_dir), "--out", str(gif), "--field", a.gif_field, "--resolution", "480x270",
              "--fps", "4", "--arch", a.arch)
        written.append(gif)
    total = sum(p.stat().st_size for p in a.out.glob("*") if p.is_file())
    for p in written:
        print(f"{p.relative_to(ROOT) if p.is_relative_to(ROOT) else p}: {p.stat().st_size / 1e3:.0f} kB")
    print(f"renders/ total: {total / 1e6:.2f} MB")
    if total > a.max_mb * 1e6:
        print(f"error: renders/ holds more than {a.max_mb} MB; use fewer inputs", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
