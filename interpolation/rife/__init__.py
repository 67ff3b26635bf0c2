"""RIFE 4.6+ (Practical-RIFE's IFNet) in plain PyTorch: layouts, network, loader.

``load_rife(path, dtype=..., device=..., scale=1.0)`` returns an :class:`~..base.Interpolator`;
see ``docs/interpolation.md``.
"""
