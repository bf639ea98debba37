#!/usr/bin/env python3
"""Regenerate the README gallery in renders/ from scenes or finished run folders.

    python3 tools/make_gallery.py scenes/pyramid_swelling.toml            # runs it into runs/gallery/
    python3 tools/make_gallery.py runs/seed000_cube runs/seed000_pyramid  # finished (coupled) runs

For each argument it writes renders/<name>_damage.png (last snapshot, damage), renders/<name>_von_mises.png
and renders/<name>_damage.gif (every snapshot, small and looping), all through `pdssb render`, the
viewer's drawing code. With --before-after FILE.png it also writes one small panel: the last
snapshot of every input in the site view (top row) and the crack view (bottom row), the field's
image only, labelled. It refuses to leave more than --max-mb in renders/.
"""

from __future__ import annotations

import argparse
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
    """The last frame as a 256-colour PNG (tens of kB; smooth fields band only slightly)."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        pdssb("render", str(run_dir), "--out", tmp + "/", "--field", field, "--resolution", resolution, "--arch", arch)
        frames = sorted(Path(tmp).glob("frame_*.png"))
        Image.open(frames[-1]).convert("RGB").quantize(colors=256, dither=Image.Dither.NONE).save(out, optimize=True)


def before_after(run_dirs: list[Path], labels: list[str], field: str, out: Path, tile_width: int = 240) -> None:
    """Site view over crack view of each run's last snapshot, side by side, as a small palette PNG."""
    import numpy as np
    from PIL import Image, ImageDraw

    sys.path.insert(0, str(ROOT))
    from pdssb.viz.renderers import open_renderer
    from pdssb.viz.data import RunData
    from pdssb.viz.options import FrameOptions
    from pdssb.viz.overlay import BACKGROUND, FOREGROUND, font

    drawer = open_renderer("software", (960, 720))
    rows: list[list[Image.Image]] = [[], []]
    for run_dir in run_dirs:
        run = RunData(run_dir)
        snap = run.snapshot(len(run) - 1)
        for row, style in enumerate(("sites", "cracks")):
            img = drawer.draw(snap, FrameOptions(field=field, style=style, resolution=(960, 720), overlay=False))
            x0, y0, x1, y1 = drawer.image_box
            tile = Image.fromarray(np.ascontiguousarray(img[y0:y1, x0:x1]))
            rows[row].append(tile.resize((tile_width, round(tile.height * tile_width / tile.width)), Image.LANCZOS))
    head, side, gap = 22, 64, 6
    th = max(t.height for t in rows[0] + rows[1])
    panel = Image.new("RGB", (side + len(run_dirs) * (tile_width + gap), head + 2 * (th + gap)), BACKGROUND)
    d = ImageDraw.Draw(panel)
    for k, label in enumerate(labels):
        d.text((side + k * (tile_width + gap) + 4, 4), label, fill=FOREGROUND, font=font(13))
    for row, name in enumerate(("sites", "cracks")):
        d.text((6, head + row * (th + gap) + th // 2 - 8), name, fill=FOREGROUND, font=font(13))
        for k, tile in enumerate(rows[row]):
            panel.paste(tile, (side + k * (tile_width + gap), head + row * (th + gap)))
    panel.quantize(colors=96, dither=Image.Dither.NONE).save(out, optimize=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inputs", nargs="+", type=Path, help="scene files (run first) or run folders")
    ap.add_argument("--out", type=Path, default=ROOT / "renders")
    ap.add_argument("--runs", type=Path, default=ROOT / "runs" / "gallery", help="where scenes are run")
    ap.add_argument("--arch", default="auto")
    ap.add_argument("--max-mb", type=float, default=3.0)
    ap.add_argument("--png-fields", default="damage,von_mises", help="fields drawn as last-frame PNGs")
    ap.add_argument("--gif-field", default="damage", help="field of the GIF (material shows Li-filled cracks)")
    ap.add_argument("--before-after", type=Path, help="also write the site view / crack view panel here (PNG)")
    ap.add_argument("--before-after-field", default="material", help="field of the --before-after panel")
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
    if a.before_after is not None:
        dirs = [item if item.is_dir() else a.runs / item.stem for item in a.inputs]
        before_after(dirs, [d.name.replace("seed000_", "").replace("_", " ") for d in dirs], a.before_after_field,
                     a.before_after)
        written.append(a.before_after)
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
