"""Visualisation: the live viewer, headless rendering to video, and the paper-style figures.

``compose.py`` is the one frame-drawing interface (what a frame shows), with two backends:
``frame.py`` (Taichi GGUI, Vulkan; the live window) and ``software.py`` (Taichi kernels in
``raster.py``, no Vulkan); ``renderers.py`` (``open_renderer``) picks one. ``cracks.py`` turns broken bonds into crack faces.
``viewer.py`` (``pdssb view``) and ``render.py`` (``pdssb render``, ``pdssb run --video``) draw
through it; ``figures.py`` makes the matplotlib figures of a run folder (``pdssb figures``);
``bench.py`` times frames (``pdssb bench --viewer``).
"""
