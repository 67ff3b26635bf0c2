"""Open-Sora 1.2: the STDiT3 denoiser (``stdit3``), its loader (``load``), aspect buckets
(``aspect``) and caption handling (``text``). Nothing heavy is imported here."""
from __future__ import annotations


def load_stdit(path, dtype=None, device=None):
    """Load an STDiT3 checkpoint (see :func:`.load.load_stdit`)."""
    from .load import load_stdit as _load

    return _load(path, dtype=dtype, device=device)
