"""Viewer, headless rendering, video and figures, through both renderers: the software one (no
Vulkan) always, GGUI where Vulkan starts (lavapipe on a CPU-only machine; the `backend` fixture)."""

import imageio.v2 as imageio
import imageio.v3 as iio
import numpy as np
import pytest
from typer.testing import CliRunner

from pdssb.cli import app
from pdssb.viz import renderers
from pdssb.viz import frame as frame_mod
from pdssb.viz.colormaps import field_spec, lut, material_colors
from pdssb.viz.compose import CRACK_RGB, LI_CRACK_RGB, plan_frame
from pdssb.viz.renderers import open_renderer
from pdssb.viz.data import RunData
from pdssb.viz.figures import damage_profile, figures_for_run, von_mises_profile
from pdssb.viz.frame import GGUIRenderer
from pdssb.viz.options import FrameOptions
from pdssb.viz.overlay import FOREGROUND
from pdssb.viz.viewer import ReplaySource, Viewer

from ..scenes import swelling_pit

TINY_SCENE = swelling_pit(title="tiny viewer pit", size_um=2, dx_um=0.1, width_um=0.8, load_steps=3, every=1)

DAMAGE_RGB = lut("YlOrRd")[255].astype(int)  # damage = 1
INTACT_RGB = lut("YlOrRd")[0].astype(int)  # damage = 0


def near(pixel, rgb, tol=12):
    return bool(np.all(np.abs(np.asarray(pixel, int) - rgb) <= tol))


def near_any(img, rc, rgb, tol=20, r=1):
    """Some pixel within ``r`` of (row, column) ``rc`` has colour ``rgb`` (lines are antialiased)."""
    y, x = rc
    patch = img[y - r: y + r + 1, x - r: x + r + 1].astype(int)
    return bool(np.all(np.abs(patch - np.asarray(rgb)) <= tol, axis=-1).any())


def is_damage(img, tol=12):
    return np.all(np.abs(img.astype(int) - DAMAGE_RGB) <= tol, axis=-1)


def crack_grey(img, bottom):
    """Lit crack quads (white, shaded to light grey) between the text, the colour bar and the scale bar."""
    img = img[:bottom, int(0.3 * img.shape[1]): int(0.8 * img.shape[1])].astype(int)
    return (img.min(axis=-1) > 110) & (img.max(axis=-1) - img.min(axis=-1) < 12)


def reddish(img):
    """Lit particles of damage 1 (dark red, shaded): red well above green and blue, left of the colour bar."""
    img = img[:, : int(0.8 * img.shape[1])]
    r, g, b = (img[..., c].astype(int) for c in range(3))
    return (r > 60) & (r > 2 * g + 20) & (r > 2 * b)


# ---------------------------------------------------------------- drawing
def test_2d_frame_shows_damage_where_it_was_put(run2d, backend):
    run = RunData(run2d)
    snap = run.snapshot(len(run) - 1)  # damage in x ∈ [4, 14), y ∈ [3, 9)
    r = open_renderer(backend, (480, 320))
    img = r.draw(snap, FrameOptions(field="damage", resolution=(480, 320)))
    assert r.kind == backend
    assert img.shape == (320, 480, 3) and img.dtype == np.uint8
    assert img.std() > 20  # not blank
    assert near(img[r.pixel_of(8, 5)], DAMAGE_RGB)
    assert near(img[r.pixel_of(30, 20)], INTACT_RGB)
    assert near(img[r.pixel_of(8, 20)], INTACT_RGB)  # above the damaged band
    mask = is_damage(img)
    right_edge = r.pixel_of(39, 0)[1] + 8
    rows, cols = np.nonzero(mask[:, :right_edge])  # the lattice image (the colour bar is further right)
    top, left = r.pixel_of(4, 8)
    bottom, right = r.pixel_of(13, 3)
    assert len(rows) > 100
    assert top - 8 <= rows.min() and rows.max() <= bottom + 8 and left - 8 <= cols.min() and cols.max() <= right + 8
    assert mask[:, right_edge:].any()  # the colour bar's top end is the damage colour too


def test_2d_scale_bar_and_colour_bar(run2d, backend):
    """The scale bar is 1 µm long (the nice length under a quarter of the 4 µm image) at 10 sites of
    0.1 µm; the colour bar runs from damage 1 (top) to 0 (bottom)."""
    r = open_renderer(backend, (480, 320))
    img = r.draw(RunData(run2d).snapshot(2), FrameOptions(field="damage", resolution=(480, 320)))
    ox, oy, s, th = r.map_2d
    rows = [y for y in range(oy + th, img.shape[0]) if near(img[y, ox + 2], FOREGROUND, tol=10)]
    assert rows, "no scale bar under the image"
    bar = np.all(np.abs(img[rows[0]].astype(int) - FOREGROUND) <= 10, axis=-1)
    length = int(np.argmin(bar[ox:]))  # the run of bar pixels from the image's left edge
    assert bar[ox] and length == pytest.approx(10 * s, abs=2)
    layout_bar = np.nonzero(is_damage(img[:, r.image_box[2]:]))  # the colour bar's damage-1 end
    intact = np.nonzero(np.all(np.abs(img[:, r.image_box[2]:].astype(int) - INTACT_RGB) <= 12, axis=-1))
    assert layout_bar[0].mean() < intact[0].mean()  # damage 1 at the top, 0 at the bottom


def test_2d_crack_view_fades_intact_sites_and_fields_have_units(run2d, backend):
    snap = RunData(run2d).snapshot(2)
    r = open_renderer(backend, (480, 320))
    img = r.draw(snap, FrameOptions(field="damage", crack_only=0.5, resolution=(480, 320)))
    assert near(img[r.pixel_of(8, 5)], DAMAGE_RGB)
    assert not near(img[r.pixel_of(30, 20)], INTACT_RGB, tol=30)  # faded
    img_vm = r.draw(snap, FrameOptions(field="von_mises", resolution=(480, 320)))
    # von Mises grows with x: viridis low (dark blue) on the left, high (yellow) on the right
    left, right = img_vm[r.pixel_of(3, 15)].astype(int), img_vm[r.pixel_of(38, 15)].astype(int)
    assert right[1] > left[1] + 80  # yellow-green is brighter than dark purple
    assert field_spec("von_mises").unit == "MPa" and field_spec("current_density").unit == "mA cm⁻²"
    assert field_spec("displacement").unit == "µm" and field_spec("potential").unit == "V"


def test_run_without_bond_bits_draws_the_site_view(run2d):
    """A run folder written before bond bits were stored: the cracks style falls back to sites."""
    snap = RunData(run2d).snapshot(2)
    assert "bond_bits" not in snap.fields
    plan = plan_frame(snap, FrameOptions())
    assert plan.style == "sites" and plan.faces is None


def test_2d_crack_segments_where_bonds_were_broken(crack2d, backend):
    """crack2d: the bonds across x = 19.5 (rows 10..19) are cut, and those across y = 1.5 (columns
    0..7), where Li has filled sites (2..5, 1); the crack faces are drawn there and nowhere else."""
    snap = RunData(crack2d).snapshot(0)
    r = open_renderer(backend, (640, 480))
    for field, intact in (("damage", INTACT_RGB), ("material", material_colors(2)[1].astype(int))):
        img = r.draw(snap, FrameOptions(field=field, resolution=(640, 480)))
        for j in range(11, 19):
            assert near_any(img, r.pixel_of(19.5, j), CRACK_RGB), (field, j)
        assert not near_any(img, r.pixel_of(19.5, 23), CRACK_RGB, r=3)  # above the crack's end
        assert not near_any(img, r.pixel_of(19.5, 6), CRACK_RGB, r=3)  # below it
        assert near(img[r.pixel_of(30, 25)], intact)  # the field away from the cracks
        x0, y0, x1, y1 = r.image_box
        rows, cols = np.nonzero(np.all(np.abs(img[y0:y1, x0:x1].astype(int) - CRACK_RGB) <= 20, axis=-1))
        ox, oy, sc, th = r.map_2d
        i, j = (cols + x0 - ox) / sc - 0.5, (oy + th - rows - y0) / sc - 0.5  # back to site coordinates
        on_cuts = ((np.abs(i - 19.5) < 0.6) & (j > 9) & (j < 20)) | ((np.abs(j - 1.5) < 0.6) & (i < 8))
        assert len(rows) > 50 and on_cuts.all()  # crack colour on the two cuts only
        assert near(img[r.pixel_of(3, 1)], LI_CRACK_RGB) and near(img[r.pixel_of(4, 1)], LI_CRACK_RGB)  # Li-filled sites
        assert near_any(img, r.pixel_of(0.5, 1.5), LI_CRACK_RGB)  # a face with a Li end
        assert near_any(img, r.pixel_of(7, 1.5), CRACK_RGB)  # the dry end of that crack
    sites = r.draw(snap, FrameOptions(field="damage", style="sites", resolution=(640, 480)))
    x0, y0, x1, y1 = r.image_box
    assert not np.all(np.abs(sites[y0:y1, x0:x1].astype(int) - CRACK_RGB) <= 20, axis=-1).any()  # no faces


def test_3d_particles_show_damage_colour_and_clip_plane_hides_it(run3d, backend):
    run = RunData(run3d)
    snap = run.snapshot(len(run) - 1)  # damage block at x high, y low, z high: faces the 'iso' camera
    r = open_renderer(backend, (400, 300))
    img = r.draw(snap, FrameOptions(field="damage", resolution=(400, 300)))
    assert img.std() > 20
    n_red = int(reddish(img).sum())
    assert n_red > 500
    rows, cols = np.nonzero(reddish(img))
    assert rows.mean() < 150  # the block is on top (z high)
    # clip away the damaged upper part (keep z < 0.5): no damage colour left
    img_clip = r.draw(snap, FrameOptions(field="damage", clip=(2, "<", 0.5), resolution=(400, 300)))
    assert int(reddish(img_clip).sum()) < 0.05 * n_red
    # crack view: intact sites hidden except a faint shell, the damaged block stays
    img_crack = r.draw(snap, FrameOptions(field="damage", crack_only=0.5, resolution=(400, 300)))
    assert int(reddish(img_crack).sum()) > 0.5 * n_red
    pale = np.all(img_crack.astype(int) > 200, axis=-1)  # light-yellow intact spheres are gone
    assert int(pale.sum()) < 0.2 * int(np.all(img.astype(int) > 200, axis=-1).sum())


def test_3d_crack_surface_where_bonds_were_broken(crack3d, backend):
    """crack3d: every bond across the plane z = 7.5 is cut; the crack view draws that plane, and a
    clip plane below it (z < 0.5 of the box) removes it."""
    snap = RunData(crack3d).snapshot(0)
    r = open_renderer(backend, (400, 300))
    img = r.draw(snap, FrameOptions(field="damage", crack_only=0.5, resolution=(400, 300)))
    surface = crack_grey(img, r.layout.image_box[3])
    assert surface.sum() > 3000
    rows, _ = np.nonzero(surface)
    corners = r.camera.project(np.array([[x, y, 0.8] for x in (0, 1.2) for y in (0, 1.2)]))
    assert corners[:, 1].min() - 3 <= rows.min() and rows.max() <= corners[:, 1].max() + 3  # the plane z = 8 Δx = 0.8 µm
    img_clip = r.draw(snap, FrameOptions(field="damage", crack_only=0.5, clip=(2, "<", 0.5), resolution=(400, 300)))
    assert crack_grey(img_clip, r.layout.image_box[3]).sum() < 0.02 * surface.sum()


def test_window_needs_ggui():
    from pdssb.errors import InputError

    with pytest.raises(InputError, match="needs GGUI"):
        open_renderer("software", (128, 96), show_window=True)


# ---------------------------------------------------------------- viewer (offscreen)
def test_viewer_live_2d_scene_offscreen(tmp_path, backend):
    scene = tmp_path / "tiny.toml"
    scene.write_text(TINY_SCENE)
    shot = tmp_path / "shot.png"
    res = CliRunner().invoke(app, ["view", str(scene), "--offscreen", "--frames", "3", "--every", "1",
                                   "--resolution", "480x320", "--screenshot", str(shot), "--arch", "cpu",
                                   "--field", "von_mises", "--renderer", backend])
    assert res.exit_code == 0, res.output
    img = iio.imread(shot)
    assert img.shape == (320, 480, 3) and img.std() > 20
    assert "step 3" in res.output  # three steps were run and drawn


def test_viewer_controls_and_replay_damage(run2d, tmp_path, backend):
    v = Viewer(ReplaySource(RunData(run2d)), FrameOptions(resolution=(480, 320)), offscreen=True, renderer=backend)
    v.run_offscreen(1)  # snapshot 1 → 2
    assert v.source.index == 1
    v.handle_key(" ")  # pause
    v.run_offscreen(2)
    assert v.source.index == 1 and v.paused
    v.handle_key("n")  # single step while paused
    v.handle_key("Right")  # time slider: but already at the end
    assert v.source.index == 2
    v.handle_key("r")  # reset
    assert v.source.index == 0
    v.handle_key("f")  # next field
    assert v.opts.field != "damage"
    while v.opts.field != "damage":
        v.handle_key("f")
    v.source.seek(2)
    shot = v.run_offscreen(1, tmp_path / "replay.png")
    img = iio.imread(tmp_path / "replay.png")
    assert np.array_equal(img, shot)
    assert near(img[v.renderer.pixel_of(8, 5)], DAMAGE_RGB) and near(img[v.renderer.pixel_of(30, 20)], INTACT_RGB)


class FakeGui:
    """Stands in for GGUI's imgui handle: records the widgets, answers with scripted values."""

    def __init__(self, answers=None):
        self.answers = answers or {}
        self.widgets: list[str] = []

    def sub_window(self, name, x, y, w, h):
        import contextlib

        assert 0 <= x and x + w <= 1 and 0 <= y and y + h <= 1
        return contextlib.nullcontext()

    def text(self, text):
        self.widgets.append(f"text:{text}")

    def _ask(self, kind, label, value):
        self.widgets.append(f"{kind}:{label}")
        key = next((k for k in self.answers if label.startswith(k)), None)
        return self.answers[key] if key is not None else value

    def button(self, label):
        return self._ask("button", label, False)

    def checkbox(self, label, value):
        return self._ask("checkbox", label, value)

    def slider_int(self, label, value, lo, hi):
        assert lo <= value <= hi
        return self._ask("slider_int", label, value)

    def slider_float(self, label, value, lo, hi):
        assert lo <= value <= hi
        return self._ask("slider_float", label, value)


def test_viewer_control_panel_drives_the_viewer(crack3d):
    """The control panel's widgets (checked here with a stand-in for GGUI's imgui; the real window
    is shown in docs/viewer.md): field, style, pause, crack view and threshold, clip plane, time."""
    v = Viewer(ReplaySource(RunData(crack3d)), FrameOptions(resolution=(320, 240)), offscreen=True,
               renderer="software")
    gui = FakeGui()
    v.panel(gui)
    labels = " ".join(gui.widgets)
    for widget in ("button:pause", "button:single step", "button:screenshot", "text:field: damage", "slider_int:field",
                   "checkbox:crack faces", "slider_int:speed", "checkbox:crack view", "checkbox:clip plane",
                   "slider_int:time"):
        assert widget in labels, widget
    k = v.fields.index("von_mises")
    v.panel(FakeGui({"field": k, "pause": True, "crack view": True, "crack faces": False}))
    assert v.opts.field == "von_mises" and v.paused and v.opts.crack_only == pytest.approx(0.3)
    assert v.opts.style == "sites"
    v.panel(FakeGui({"threshold": 0.7, "clip plane": True}))
    assert v.opts.crack_only == pytest.approx(0.7) and v.opts.clip == (2, "<", 0.5)
    v.panel(FakeGui({"axis": 0, "keep": False, "position": 0.25}))
    assert v.opts.clip == (0, ">", 0.25)
    img = v.tick(read=True)
    assert img.shape == (240, 320, 3)


def test_viewer_3d_offscreen_screenshot(run3d, tmp_path, backend):
    shot = tmp_path / "v3.png"
    res = CliRunner().invoke(app, ["view", str(run3d), "--offscreen", "--frames", "2", "--resolution", "400x300",
                                   "--screenshot", str(shot), "--arch", "cpu", "--renderer", backend])
    assert res.exit_code == 0, res.output
    img = iio.imread(shot)
    assert img.std() > 20 and int(reddish(img).sum()) > 500


# ---------------------------------------------------------------- render / video
def test_render_mp4_frame_count_and_size(run2d, tmp_path, backend):
    out = tmp_path / "movie.mp4"
    res = CliRunner().invoke(app, ["render", str(run2d), "--out", str(out), "--fps", "5", "--resolution", "320x240",
                                   "--arch", "cpu", "--renderer", backend])
    assert res.exit_code == 0, res.output
    reader = imageio.get_reader(str(out))
    frames = [f for f in reader]
    assert len(frames) == 3
    assert frames[0].shape == (240, 320, 3)
    assert reader.get_meta_data()["fps"] == pytest.approx(5)
    # the crack grows: more damage-coloured pixels in the last frame (lossy codec: loose tolerance)
    grows = [int(is_damage(f, tol=40).sum()) for f in frames]
    assert grows[0] < grows[-1]


def test_render_gif_and_png_folder(run3d, tmp_path, backend):
    res = CliRunner().invoke(app, ["render", str(run3d), "--out", str(tmp_path / "a.gif"), "--resolution", "200x150",
                                   "--camera", "front", "--arch", "cpu", "--renderer", backend])
    assert res.exit_code == 0, res.output
    gif = iio.imread(tmp_path / "a.gif")
    assert gif.shape[:3] == (2, 150, 200)
    res = CliRunner().invoke(app, ["render", str(run3d), "--out", str(tmp_path / "pngs") + "/", "--resolution",
                                   "200x150", "--crack-only", "0.5", "--clip", "y<0.8", "--arch", "cpu",
                                   "--renderer", backend])
    assert res.exit_code == 0, res.output
    pngs = sorted((tmp_path / "pngs").glob("*.png"))
    assert len(pngs) == 2 and iio.imread(pngs[-1]).std() > 10


def test_run_with_video_and_figures(tmp_path):
    scene = tmp_path / "tiny.toml"
    scene.write_text(TINY_SCENE)
    out, video = tmp_path / "run", tmp_path / "run.mp4"
    res = CliRunner().invoke(app, ["run", str(scene), "--out", str(out), "--arch", "cpu", "--quiet", "--video",
                                   str(video), "--video-resolution", "320x240"])
    assert res.exit_code == 0, res.output
    n_snap = len(list((out / "snapshots").glob("*.npz")))
    reader = imageio.get_reader(str(video))
    assert n_snap == 3 and reader.count_frames() == n_snap  # a snapshot every step: a frame each
    assert reader.get_meta_data()["size"] == (320, 240)
    for stem in ("timeseries", "von_mises_histogram", "von_mises_profile", "damage_profile"):
        for ext in ("png", "svg"):
            assert (out / "figures" / f"{stem}.{ext}").stat().st_size > 1000


# ---------------------------------------------------------------- figures
def test_profiles_follow_the_fields(run2d, tmp_path):
    run = RunData(run2d)
    snap = run.snapshot(2)
    x, vm, at, moved = von_mises_profile(snap, run.material_roles, y_um=1.5, band_um=1.0)
    assert at == 1.5 and not moved
    assert np.allclose(vm, 10.0 * x + 1.0)  # the synthetic von Mises is 10 MPa per µm of x, + 1 MPa
    h, d, at, moved = damage_profile(snap, run.material_roles, x_um=0.9, band_um=0.2)
    # sites x = 0.85, 0.95 µm (columns 8, 9) hold damage 1 for y ∈ [0.3, 0.9) µm
    assert np.allclose(d[3:9], 1.0) and np.allclose(d[10:], 0.0)
    _, _, at, moved = von_mises_profile(snap, run.material_roles, y_um=5.0)  # outside a 3 µm body
    assert moved and at == pytest.approx(1.5)
    paths = figures_for_run(run2d, tmp_path / "figs")
    assert len(paths) == 8 and all(p.stat().st_size > 1000 for p in paths)
    res = CliRunner().invoke(app, ["figures", str(run2d), "--out", str(tmp_path / "f2")])
    assert res.exit_code == 0 and len(list((tmp_path / "f2").glob("*.svg"))) == 4


# ---------------------------------------------------------------- bad input → exit 2
def test_bad_arguments_exit_2(run2d, tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["render", str(run2d), "--out", str(tmp_path / "x.mp4"), "--field", "temperature"])
    assert res.exit_code == 2 and "unknown field 'temperature'" in res.output
    res = runner.invoke(app, ["render", str(tmp_path / "nope"), "--out", str(tmp_path / "x.mp4")])
    assert res.exit_code == 2 and "run folder not found" in res.output
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    res = runner.invoke(app, ["render", str(run2d), "--out", str(blocker / "x.mp4"), "--arch", "cpu"])
    assert res.exit_code == 2 and "cannot be written" in res.output
    res = runner.invoke(app, ["render", str(run2d), "--out", str(tmp_path / "x.avi")])
    assert res.exit_code == 2 and "unknown video type" in res.output
    res = runner.invoke(app, ["render", str(run2d), "--out", str(tmp_path / "x.mp4"), "--field", "potential",
                              "--arch", "cpu"])
    assert res.exit_code == 2 and "coupled runs only" in res.output
    assert not (tmp_path / "x.mp4").exists()
    res = runner.invoke(app, ["view", str(run2d), "--offscreen", "--field", "bogus"])
    assert res.exit_code == 2 and "unknown field" in res.output
    res = runner.invoke(app, ["view", str(tmp_path / "missing.toml"), "--offscreen"])
    assert res.exit_code == 2 and "not found" in res.output
    res = runner.invoke(app, ["render", str(run2d), "--out", str(tmp_path / "y.mp4"), "--clip", "q<2"])
    assert res.exit_code == 2 and "--clip" in res.output
    res = runner.invoke(app, ["render", str(run2d), "--out", str(tmp_path / "y.mp4"), "--renderer", "vulkan"])
    assert res.exit_code == 2 and "unknown renderer 'vulkan'" in res.output
    res = runner.invoke(app, ["render", str(run2d), "--out", str(tmp_path / "y.mp4"), "--style", "squares"])
    assert res.exit_code == 2 and "unknown style 'squares'" in res.output
    res = runner.invoke(app, ["view", str(run2d), "--renderer", "software"], env={"DISPLAY": ":0"})
    assert res.exit_code == 2 and "needs GGUI" in res.output
    scene = tmp_path / "tiny.toml"
    scene.write_text(TINY_SCENE)
    res = runner.invoke(app, ["run", str(scene), "--out", str(tmp_path / "r"), "--arch", "cpu", "--video",
                              str(blocker / "v.mp4")])
    assert res.exit_code == 2 and "cannot be written" in res.output
    assert not (tmp_path / "r").exists()  # refused before the run folder was made


def test_without_vulkan_ggui_falls_back_to_software_with_one_line(run2d, tmp_path, monkeypatch):
    """No Vulkan loader: `--renderer ggui` stops with one line naming the packages (exit 2); the
    default (auto) draws with the software renderer and says so once on stderr."""
    monkeypatch.setattr(frame_mod, "vulkan_problem", lambda: "libvulkan not found")
    monkeypatch.setattr(renderers, "_said_fallback", False)
    res = CliRunner().invoke(app, ["render", str(run2d), "--out", str(tmp_path / "x.mp4"), "--arch", "cpu",
                                   "--renderer", "ggui"])
    assert res.exit_code == 2
    assert "mesa-vulkan-drivers libvulkan1" in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1
    for out in ("a.mp4", "b.mp4"):  # the second render in the same process says nothing more
        res = CliRunner().invoke(app, ["render", str(run2d), "--out", str(tmp_path / out), "--arch", "cpu"])
        assert res.exit_code == 0, res.output
        assert imageio.get_reader(str(tmp_path / out)).count_frames() == 3
        said = [line for line in res.output.splitlines() if "software renderer" in line]
        if out == "a.mp4":
            assert len(said) == 1 and "libvulkan not found" in said[0], res.output
        else:
            assert said == [], res.output


def test_window_creation_error_becomes_vulkan_message(monkeypatch):
    class NoVulkan:
        def __init__(self, *a, **k):
            raise RuntimeError("Vulkan must be available for GGUI")

    monkeypatch.setattr(GGUIRenderer, "_windows", {})
    import pdssb.backend as backend

    real = backend.import_taichi()
    monkeypatch.setattr(real.ui, "Window", NoVulkan)
    with pytest.raises(frame_mod.VulkanUnavailable, match="mesa-vulkan-drivers libvulkan1"):
        GGUIRenderer((128, 96))


def test_the_video_has_a_frame_per_step_however_sparse_the_snapshots(tmp_path):
    """A presentation video of a quasi-static run shows every load step, not only the saved snapshots:
    with a snapshot every 3rd of 6 steps, the video has 6 frames and the run folder 2 snapshots."""
    scene = tmp_path / "sparse.toml"
    scene.write_text(swelling_pit(title="sparse snapshots", size_um=2, dx_um=0.1, width_um=0.8, load_steps=6, every=3))
    out, video = tmp_path / "run", tmp_path / "run.mp4"
    res = CliRunner().invoke(app, ["run", str(scene), "--out", str(out), "--arch", "cpu", "--quiet", "--video",
                                   str(video), "--video-resolution", "320x240"])
    assert res.exit_code == 0, res.output
    rows = (out / "timeseries.csv").read_text().count("\n") - 1
    assert rows == 6 and len(list((out / "snapshots").glob("*.npz"))) == 2
    assert imageio.get_reader(str(video)).count_frames() == rows
