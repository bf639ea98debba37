"""Frame layout: no annotation runs into the field image, at the sizes people render at."""

import numpy as np
import pytest

from pdssb.viz.colormaps import field_spec
from pdssb.viz.compose import CRACK_RGB, LI_CRACK_RGB
from pdssb.viz.renderers import open_renderer
from pdssb.viz.data import RunData
from pdssb.viz.options import FrameOptions
from pdssb.viz.overlay import Annotations, layout_frame, scale_bar

# the longest lines a coupled run writes (a seed-000 run at failure), all notes, the crack legend
LINES = ("t = 38.86 s", "I = 2.82e-08 mA  (0.282 mA cm⁻²)", "Q = 2.24e-10 mAh  (0.00224 mAh cm⁻²)",
         "max σ_vM = 50.3 MPa", "broken bonds = 4314", "failed: separation")
NOTES = ("scale bar at the body centre", "crack view: damage ≥ 0.3", "clip z < 0.5")
LEGEND = (("crack (broken bonds)", CRACK_RGB), ("Li-filled crack", LI_CRACK_RGB))


def intersects(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("size", [(1280, 720), (1600, 1000), (800, 600)])
@pytest.mark.parametrize("field", ["damage", "material", "displacement"])
def test_text_boxes_do_not_intersect_the_image_box(size, field):
    ann = Annotations("seed 000: semi-spherical Li-filled pit in LAGP", LINES, field_spec(field), 0.0, 1.234e-3,
                      ("LAGP", "Li"), NOTES, LEGEND)
    layout = layout_frame(*size, ann)
    image = layout.image_box
    bar = scale_bar(layout, 60.0)
    texts = [t.box for t in layout.texts] + [bar[1].box]
    others = [b for b, _ in layout.swatches] + [bar[0]] + ([layout.colorbar_box] if layout.colorbar_box else [])
    w, h = size
    assert image[2] - image[0] >= 0.4 * w and image[3] - image[1] >= 0.7 * h  # the image keeps most of the frame
    for box in texts + others:
        assert not intersects(box, image), (box, image)
        assert 0 <= box[0] and box[2] <= w and 0 <= box[1] and box[3] <= h, box
    for i, a in enumerate(texts):  # nor do the texts run into one another
        for b in texts[i + 1:]:
            assert not intersects(a, b), (a, b)


@pytest.mark.parametrize("size", [(1280, 720), (1600, 1000), (800, 600)])
def test_annotations_leave_the_drawn_image_untouched(crack2d, size):
    """The pixels of the field image are the same with and without the annotations."""
    snap = RunData(crack2d).snapshot(0)
    r = open_renderer("software", size)
    bare = r.draw(snap, FrameOptions(field="material", resolution=size, overlay=False))
    box = r.image_box
    full = r.draw(snap, FrameOptions(field="material", resolution=size))
    assert r.image_box == box
    x0, y0, x1, y1 = box
    assert np.array_equal(full[y0:y1, x0:x1], bare[y0:y1, x0:x1])
    assert not np.array_equal(full, bare)
