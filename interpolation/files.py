"""Which network a frame-interpolation file holds (from its tensor names, never its file name) and
loading it: RIFE 4.6+ (``flownet.pkl``, ``rife4x.pth``) or SGM-VFI (``ours-1-2-points.pkl``)."""
from __future__ import annotations

from pathlib import Path

from ..errors import CheckpointError
from .base import Interpolator

#: Files Load Interpolator offers from the vfi folders (GMFlow files are SGM-VFI helpers).
EXTENSIONS = (".pkl", ".pth", ".safetensors")


def is_helper(name: str) -> bool:
    """GMFlow weights are read beside an SGM-VFI file, never chosen on their own."""
    return "gmflow" in name.lower().rsplit("/", 1)[-1]


def load_interpolator_file(path: Path, dtype="auto", device=None, rife_scale="auto", rife_ensemble: bool = False
                           ) -> Interpolator:
    """The interpolator a file holds; ``rife_scale`` / ``rife_ensemble`` are RIFE's ``scale`` and
    ``ensemble`` (see :func:`.rife.loader.load_rife`), not used by SGM-VFI. Raises
    :class:`CheckpointError` naming what else the file looks like."""
    from ..loaders.checkpoints import read_shapes
    from ..loaders.identify import describe_checkpoint
    from .rife.layouts import is_rife

    keys = list(read_shapes(path))
    if is_rife(keys):
        from .rife.loader import load_rife

        return load_rife(Path(path), dtype=dtype, device=device, scale=rife_scale, ensemble=rife_ensemble)
    if any(k.startswith("feature_bone.") for k in keys):
        from .sgm_vfi.loader import load_sgm_vfi

        return load_sgm_vfi(Path(path), dtype=dtype, device=device)
    raise CheckpointError(
        f"{Path(path).name} is neither a RIFE nor an SGM-VFI checkpoint: it looks like {describe_checkpoint(keys)}. "
        "Use a RIFE 4.6+ flownet.pkl / rife4x.pth or ours-1-2-points.pkl (see docs/interpolation.md).")
