"""Frame interpolation (weight-free optical flow, SGM-VFI).

``interpolate(frames, multiplier, method="flow", ...)`` is the one entry; see
:func:`motioncomic.interpolation.clip.interpolate`. The interface interpolators implement is
:class:`motioncomic.interpolation.base.Interpolator`. Importing this package stays light: torch and
OpenCV are imported when a function runs.
"""
from __future__ import annotations


def interpolate(frames, multiplier=2, method="flow", **kwargs):
    """Raise the frame rate of a clip; see :func:`.clip.interpolate` for the arguments."""
    from .clip import interpolate as _interpolate

    return _interpolate(frames, multiplier, method=method, **kwargs)


__all__ = ["interpolate"]
