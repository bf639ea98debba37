"""Which backend draws the frames: GGUI when it can start, else the software renderer.

Kept apart from :mod:`pdssb.viz.compose` (the shared frame-drawing interface), which both
backends build on: the chooser imports the backends, the backends import the interface.
"""

from __future__ import annotations

import sys

from ..errors import InputError
from .compose import FrameRenderer

__all__ = ["open_renderer"]

_said_fallback = False


def open_renderer(kind: str = "auto", resolution: tuple[int, int] = (1280, 720), show_window: bool = False,
                  name: str = "pdssb") -> FrameRenderer:
    """GGUI when ``kind`` is "ggui" (InputError without Vulkan), software when "software";
    "auto" tries GGUI and falls back to software with one line on stderr (once per process)."""
    global _said_fallback
    if kind not in ("auto", "software", "ggui"):
        raise InputError("--renderer", f"unknown renderer '{kind}' (use auto, software or ggui)")
    if kind == "software":
        if show_window:
            raise InputError("--renderer", "a live window needs GGUI; use --offscreen with the software renderer")
        from .software import SoftwareRenderer

        return SoftwareRenderer(resolution)
    from .frame import GGUIRenderer, VulkanUnavailable

    try:
        return GGUIRenderer(resolution, show_window=show_window, name=name)
    except VulkanUnavailable as e:
        if kind == "ggui" or show_window:
            raise
        if not _said_fallback:
            print(f"pdssb: {e.reason.split(';')[0]}: drawing with the software renderer (--renderer software)",
                  file=sys.stderr, flush=True)
            _said_fallback = True
        from .software import SoftwareRenderer

        return SoftwareRenderer(resolution)
