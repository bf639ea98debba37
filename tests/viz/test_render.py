"""`pdssb run --video` on a machine without Vulkan: the software renderer makes the video."""

import os
import subprocess
import sys
from pathlib import Path

import imageio.v2 as imageio
import numpy as np

from pdssb.viz.compose import LI_CRACK_RGB
from pdssb.viz.data import RunData
from pdssb.viz.options import FrameOptions
from pdssb.viz.software import SoftwareRenderer

ROOT = Path(__file__).resolve().parents[2]


def tiny_quickstart_scene() -> str:
    """The README's scene (seed 000's semi-spherical pit) shrunk: a 3 µm × 3.4 µm cell at the same
    Δx = 0.2 µm, a 0.8 µm pit, 10 s of plating (about 5 coupled steps): cracks open at the pit and
    Li follows them."""
    text = (ROOT / "scenes" / "seed000_semi_sphere.toml").read_text()
    for old, new in (('size = ["10 um", "10.6 um"]', 'size = ["3 um", "3.4 um"]'),
                     ('hi = ["10 um", "0.6 um"]', 'hi = ["3 um", "0.6 um"]'),
                     ('center = ["5 um", "0.6 um"]', 'center = ["1.5 um", "0.6 um"]'),
                     ('radius = "1 um"', 'radius = "0.8 um"'), ('t_end = "120 s"', 't_end = "10 s"'),
                     ("every = 10", "every = 2"), ('times = ["12 s"]', "")):
        assert old in text, old
        text = text.replace(old, new)
    return text


def cyan(img, tol=40):
    return np.all(np.abs(img.astype(int) - LI_CRACK_RGB) <= tol, axis=-1)


def test_run_video_without_vulkan(tmp_path):
    """The Vulkan driver hidden (VK_ICD_FILENAMES naming no file): the run draws its video with the
    software renderer, says so in one line on stderr, and the mp4 (a frame per step) shows the Li-filled
    crack where the run folder's last snapshot has it."""
    scene = tmp_path / "tiny.toml"
    scene.write_text(tiny_quickstart_scene())
    out, video = tmp_path / "run", tmp_path / "run.mp4"
    env = dict(os.environ, VK_ICD_FILENAMES=str(tmp_path / "no_driver.json"),
               VK_DRIVER_FILES=str(tmp_path / "no_driver.json"))
    proc = subprocess.run([sys.executable, "-m", "pdssb.cli", "run", str(scene), "--out", str(out), "--arch", "cpu",
                           "--quiet", "--no-figures", "--video", str(video), "--video-resolution", "480x360",
                           "--video-field", "material"], capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    said = [line for line in proc.stderr.splitlines() if "software renderer" in line]
    assert len(said) == 1 and "Vulkan" in said[0], proc.stderr
    reader = imageio.get_reader(str(video))
    frames = [f for f in reader]
    run = RunData(out)
    rows = (out / "timeseries.csv").read_text().count("\n") - 1
    assert len(frames) == rows >= len(run) > 0 and frames[-1].shape == (360, 480, 3)  # a frame per step
    # the last step is the last snapshot: drawn from the run folder, where its Li-filled cracks are
    drawer = SoftwareRenderer((480, 360))
    ref = drawer.draw(run.snapshot(len(run) - 1), FrameOptions(field="material", resolution=(480, 360)))
    x0, y0, x1, y1 = drawer.image_box  # the lattice image (the legend's line sample is cyan too)
    want, got = cyan(ref[y0:y1, x0:x1], tol=5), cyan(frames[-1][y0:y1, x0:x1])
    assert want.sum() > 30, "the reference run has no Li-filled crack"
    assert (want & got).sum() > 0.7 * want.sum()
    assert got.sum() < 1.5 * want.sum()
