"""Tiny Open-Sora models for tests and workflow runs.

``tiny_stdit_weights`` is the seed recipe behind ``tests/data/opensora/*``: it depends only on
torch and on the sorted tensor names/shapes, so the reference script that ran upstream Open-Sora
v1.2.0 (outside this repository) and our tests draw identical weights.
"""
from __future__ import annotations

import math

#: The tiny configuration that exercises every STDiT3 path (see REFERENCE.md).
TINY_STDIT = dict(hidden_size=64, depth=2, num_heads=4, patch_size=(1, 2, 2), in_channels=4,
                  caption_channels=32, model_max_length=16, qk_norm=True, pred_sigma=True)
TINY_SEED = 1234


def tiny_stdit_weights(shapes: dict, seed: int = TINY_SEED) -> dict:
    """Random but well-scaled weights for every tensor in ``shapes`` (name -> shape).

    Drawn in sorted-name order from one ``torch.Generator`` (CPU, float32): weights ~ N(0, 1/fan_in),
    biases ~ N(0, 0.1^2), q/k norm weights ~ 1 + N(0, 0.1^2), adaLN tables ~ N(0, 1/hidden),
    ``y_embedding`` ~ N(0, 1/C); ``rope.freqs`` keeps its exact default (1/10000^(2i/d)).
    """
    import torch

    g = torch.Generator().manual_seed(seed)
    out = {}
    for name in sorted(shapes):
        shape = tuple(shapes[name])
        if name == "rope.freqs":
            d = 2 * shape[0]
            out[name] = 1.0 / (10000 ** (torch.arange(0, d, 2)[: d // 2].float() / d))
            continue
        t = torch.randn(shape, generator=g)
        if name.endswith(("q_norm.weight", "k_norm.weight")):
            t = 1 + 0.1 * t
        elif name.endswith(".bias"):
            t = 0.1 * t
        elif "scale_shift_table" in name or name.endswith("y_embedding"):
            t = t / math.sqrt(shape[-1])
        else:
            t = t / math.sqrt(max(1, math.prod(shape[1:])))
        out[name] = t.contiguous()
    return out


def build_tiny_stdit(seed: int = TINY_SEED):
    """Our STDiT3 in the tiny configuration with the recipe's weights (float32, eval)."""
    import torch

    from motioncomic.loaders.opensora.stdit3 import STDiT3, STDiT3Config

    with torch.device("meta"):
        model = STDiT3(STDiT3Config(**TINY_STDIT))
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    from motioncomic.loaders.checkpoints import assign_tensors

    missing, unexpected = assign_tensors(model, tiny_stdit_weights(shapes, seed).items(), dtype=torch.float32)
    assert not missing and not unexpected, (missing, unexpected)
    return model.eval().requires_grad_(False)


def save_tiny_stdit(path, seed: int = TINY_SEED, prefix: str = "") -> None:
    """Write the tiny STDiT3 as ``.safetensors`` or ``.pt`` (optionally with a ``module.`` prefix)."""
    import torch
    from safetensors.torch import save_file

    sd = {prefix + k: v for k, v in build_tiny_stdit(seed).state_dict().items()}
    if str(path).endswith(".safetensors"):
        save_file(sd, str(path))
    else:
        torch.save(sd, str(path))


#: Names the shipped Open-Sora workflows use (relative to models/opensora/ and models/text_encoders/).
WORKFLOW_STDIT = "OpenSora-STDiT-v3/model.safetensors"
WORKFLOW_VAE = "OpenSora-VAE-v1.2/model.safetensors"
WORKFLOW_T5 = "t5xxl_fp16.safetensors"


def write_stdit_folder(folder, seed: int = TINY_SEED) -> None:
    """The HF layout of hpcai-tech/OpenSora-STDiT-v3: config.json + model.safetensors (tiny)."""
    import json
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_tiny_stdit(folder / "model.safetensors", seed)
    cfg = dict(TINY_STDIT, model_type="STDiT3", architectures=["STDiT3"], input_sq_size=512,
               patch_size=list(TINY_STDIT["patch_size"]))
    (folder / "config.json").write_text(json.dumps(cfg, indent=1))


def install_for_workflows(models_dir) -> None:
    """Write tiny ST-DiT, VAE and T5 (+ tokenizer) under the exact names the workflows use."""
    from pathlib import Path

    import tiny_cogvideox
    from tiny_opensora_vae import write_tiny_opensora_vae

    models_dir = Path(models_dir)
    stdit = models_dir / "opensora" / WORKFLOW_STDIT
    if not stdit.exists():
        write_stdit_folder(stdit.parent)
    vae = models_dir / "opensora" / WORKFLOW_VAE
    if not vae.exists():
        write_tiny_opensora_vae(vae)
    t5 = models_dir / "text_encoders" / WORKFLOW_T5
    if not t5.exists():
        t5.parent.mkdir(parents=True, exist_ok=True)
        tiny_cogvideox.write_t5_file(t5)
    tok = models_dir / "text_encoders" / "t5_tokenizer"
    if not (tok / "spiece.model").exists():
        tiny_cogvideox.write_tokenizer(tok)
