"""Reading SGM-VFI / GMFlow checkpoints and inferring the variant from tensor shapes.

Upstream rules (``Trainer_x4k.Model.load_model``): the ``.pkl`` is a dict whose ``model`` entry is
the ``module.``-prefixed state dict of the whole network (DDP); keys containing ``attn_mask`` or
``HW`` (attention-mask buffers the MotionFormer registers while it runs) are dropped; the GMFlow
part comes from ``gmflow_sintel-0c07dcb3.pth`` (its ``model`` entry, only the keys the network
has) unless the SGM-VFI checkpoint carries it.
"""
from __future__ import annotations

import re
from pathlib import Path

from ...errors import CheckpointError
from ...loaders.checkpoints import read_state_dict
from ...loaders.identify import describe_checkpoint
from .network import SGMConfig

GMFLOW_FILE = "gmflow_sintel-0c07dcb3.pth"
RELEASE = "https://github.com/MCG-NJU/SGM-VFI (README: 'Download the checkpoints')"


def is_runtime_buffer(key: str) -> bool:
    """Keys upstream drops before loading (window-attention masks cached during a forward)."""
    return "attn_mask" in key or "HW" in key


def read_checkpoint(path: str | Path) -> dict:
    """The network's state dict from an SGM-VFI ``.pkl`` (prefixes stripped, runtime buffers dropped)."""
    sd = read_state_dict(path)
    return {k: v for k, v in sd.items() if not is_runtime_buffer(k)}


def infer_config(sd: dict, path: str | Path = "checkpoint", key_ratio: float = 0.5) -> SGMConfig:
    """Architecture from tensor names and shapes; refuses checkpoints of other networks.

    Raises:
        CheckpointError: naming what the checkpoint looks like.
    """
    name = Path(path).name
    keys = list(sd)
    first = sd.get("feature_bone.block1.conv.0.weight")
    if first is None or "feature_bone.patch_embed4.proj.weight" not in sd:
        looks = describe_checkpoint(keys)
        hint = ""
        if looks.startswith("GMFlow"):
            hint = (f" This is the GMFlow file: keep it in models/vfi/ as {GMFLOW_FILE} and choose the"
                    " SGM-VFI checkpoint (ours-1-2-points.pkl) instead.")
        elif looks.startswith("RIFE"):
            hint = " Choose it as a RIFE model (Load Interpolator lists it as 'RIFE: ...')."
        raise CheckpointError(
            f"{name} is not an SGM-VFI checkpoint: it looks like {looks} ({len(keys)} tensors).{hint}"
            f" Expected ours-1-2-points.pkl (or ours-local.pkl) from {RELEASE}."
        )
    width = int(first.shape[0])
    depths = []
    for stage in (1, 2, 3):
        convs = [k for k in keys if re.fullmatch(rf"feature_bone\.block{stage}\.conv\.\d+\.weight", k)
                 and sd[k].dim() == 4]
        depths.append(len(convs))
    blocks = {int(m.group(1)) for k in keys if (m := re.match(r"feature_bone\.block4\.(\d+)\.", k))}
    depths.append(max(blocks) + 1 if blocks else 0)
    if min(depths) < 1 or width % 4:
        raise CheckpointError(f"{name}: unexpected MotionFormer layout (F={width}, depths={depths}); "
                              f"it looks like {describe_checkpoint(keys)}")
    foreign = [k for k in keys if "cor_embed" in k or "motion_proj" in k]
    if foreign:
        raise CheckpointError(
            f"{name} looks like an EMA-VFI checkpoint (it has motion-feature layers such as {foreign[0]}),"
            f" not SGM-VFI. Use ours-1-2-points.pkl or ours-local.pkl from {RELEASE}."
        )
    has_global = any(k.startswith("matching_block.") for k in keys)
    return SGMConfig(width=width, depths=tuple(depths), global_branch=has_global, key_ratio=key_ratio)


def read_gmflow(path: str | Path) -> dict:
    """GMFlow backbone + transformer weights, keyed as inside SGM-VFI (``gmflow.*``)."""
    sd = read_state_dict(path)
    if "backbone.conv1.weight" not in sd or "transformer.layers.0.self_attn.q_proj.weight" not in sd:
        if any(k.startswith("gmflow.backbone.") for k in sd):  # an SGM-VFI-style dict
            return {k: v for k, v in sd.items() if k.startswith("gmflow.")}
        raise CheckpointError(
            f"{Path(path).name} is not a GMFlow checkpoint: it looks like {describe_checkpoint(sd)}."
            f" Expected {GMFLOW_FILE} (GMFlow's Sintel weights, linked from {RELEASE})."
        )
    return {f"gmflow.{k}": v for k, v in sd.items() if k.startswith(("backbone.", "transformer."))}
