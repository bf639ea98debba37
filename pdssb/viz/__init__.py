"""Visualisation: the live viewer, headless rendering to video, and the paper-style figures.

``frame.py`` is the one drawing code path (Taichi GGUI) used by ``viewer.py`` (``pdssb view``)
and ``render.py`` (``pdssb render``, ``pdssb run --video``); ``figures.py`` makes the matplotlib
figures of a run folder (``pdssb figures``); ``bench.py`` times frames (``pdssb bench --viewer``).
"""
