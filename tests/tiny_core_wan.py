"""A tiny random-weight Wan 2.2 TI2V-5B diffusion model in the layout core ComfyUI detects.

What core ComfyUI (0.3.64) infers from a Wan checkpoint (``comfy/model_detection.py``, the
``head.modulation`` branch): ``dim`` from ``head.modulation``, heads = dim // 128, ``ffn_dim`` from
``blocks.0.ffn.0``, the block count, ``in_dim`` from ``patch_embedding`` and ``out_dim`` from
``head.head`` (// 4 = the 1x2x2 patch). ``out_dim`` 48 with no ``img_emb`` makes it
``supported_models.WAN22_T2V`` (Wan 2.2 latent format, 48 channels, image-to-video by masking
the first latent frame) — the TI2V-5B that ``Wan22ImageToVideoLatent`` feeds. So a dim-128,
2-block model with the official tensor names and the text dim of UMT5-XXL (4096, not inferred:
``WanModel``'s default) loads through the core ``UNETLoader`` as the real 5B would.

What core cannot take tiny, so the shipped Wan graph is validated (node types, inputs, links
against the live ``/object_info``) but not run in the real-ComfyUI suite:

- the Wan 2.2 VAE: ``comfy/sd.py`` builds ``WanVAE(dim=160, z_dim=48, ...)`` from a fixed config
  once it sees ``decoder.upsamples.0.upsamples.0.residual.2.weight`` — 705 M parameters whatever
  the file holds (1.4 GB, minutes per 1280x704 frame on a CPU);
- UMT5-XXL for ``CLIPLoader(type=wan)``: detected by ``encoder.block.23...wi_1`` of width 4096 and
  built from the fixed ``umt5_config_xxl.json`` (d_model 4096, 24 layers, 5.7 B parameters), with
  its sentencepiece model inside the file. No core video model's text encoder infers its size.
"""
from __future__ import annotations

from pathlib import Path

#: The tiny configuration (TI2V-5B has dim 3072, ffn 14336, 30 blocks, in/out 48, text 4096).
TINY_WAN22 = dict(dim=128, ffn_dim=256, num_layers=2, in_dim=48, out_dim=48, text_dim=4096, freq_dim=256)
TINY_SEED = 2205

#: Names the shipped Wan 2.2 graph uses (Comfy-Org/Wan_2.2_ComfyUI_Repackaged).
WORKFLOW_UNET = "wan2.2_ti2v_5B_fp16.safetensors"  # models/diffusion_models/
WORKFLOW_VAE = "wan2.2_vae.safetensors"  # models/vae/
WORKFLOW_TEXT_ENCODER = "umt5_xxl_fp8_e4m3fn_scaled.safetensors"  # models/text_encoders/
#: Shipped API workflows that need models core cannot take tiny (see the module docstring): the
#: real-ComfyUI suite validates them against the live node definitions instead of running them.
VALIDATE_ONLY = {
    "motioncomic_wan22_letterbox.json": "core ComfyUI builds the Wan 2.2 VAE (705 M parameters) and UMT5-XXL "
                                        "(5.7 B) from fixed full-size configs; only the diffusion model is "
                                        "detected at tiny size",
}
#: Model files those workflows name that no tiny module provides at a size core loads (their combo
#: values are not checked; ``tiny_wan.py`` writes a ``wan2.2_vae.safetensors`` for our own Wan loader).
NOT_PROVIDED = {WORKFLOW_VAE, WORKFLOW_TEXT_ENCODER}


def wan22_shapes(cfg: dict = TINY_WAN22) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes of a Wan 2.x text/image-to-video DiT (official checkpoint names)."""
    d, f, t = cfg["dim"], cfg["ffn_dim"], cfg["freq_dim"]
    shapes = {
        "patch_embedding.weight": (d, cfg["in_dim"], 1, 2, 2), "patch_embedding.bias": (d,),
        "text_embedding.0.weight": (d, cfg["text_dim"]), "text_embedding.0.bias": (d,),
        "text_embedding.2.weight": (d, d), "text_embedding.2.bias": (d,),
        "time_embedding.0.weight": (d, t), "time_embedding.0.bias": (d,),
        "time_embedding.2.weight": (d, d), "time_embedding.2.bias": (d,),
        "time_projection.1.weight": (6 * d, d), "time_projection.1.bias": (6 * d,),
        "head.modulation": (1, 2, d),
        "head.head.weight": (cfg["out_dim"] * 4, d), "head.head.bias": (cfg["out_dim"] * 4,),
    }
    for i in range(cfg["num_layers"]):
        b = f"blocks.{i}."
        shapes[b + "modulation"] = (1, 6, d)
        for attn in ("self_attn", "cross_attn"):
            for p in "qkvo":
                shapes[f"{b}{attn}.{p}.weight"], shapes[f"{b}{attn}.{p}.bias"] = (d, d), (d,)
            shapes[f"{b}{attn}.norm_q.weight"] = shapes[f"{b}{attn}.norm_k.weight"] = (d,)
        shapes[b + "norm3.weight"] = shapes[b + "norm3.bias"] = (d,)
        shapes[b + "ffn.0.weight"], shapes[b + "ffn.0.bias"] = (f, d), (f,)
        shapes[b + "ffn.2.weight"], shapes[b + "ffn.2.bias"] = (d, f), (d,)
    return shapes


def write_tiny_wan22(path, seed: int = TINY_SEED) -> Path:
    """Write the tiny TI2V-5B diffusion model as fp16 ``.safetensors`` (as the repackaged file)."""
    import torch
    from safetensors.torch import save_file
    from tiny_opensora import tiny_stdit_weights  # the same well-scaled random recipe

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sd = {k: v.to(torch.float16) for k, v in tiny_stdit_weights(wan22_shapes(), seed).items()}
    save_file(sd, str(path))
    return path


#: Where ``install_for_workflows`` puts it: its own name, because ``tiny_wan.py`` writes the shipped
#: name ``wan2.2_ti2v_5B_fp16.safetensors`` for our Wan loader with a 32-wide text embedding, which core
#: (text dim fixed at 4096) cannot load. The real file serves both.
CORE_UNET = "motioncomic_tiny_core_wan2.2_ti2v_5B.safetensors"


def install_for_workflows(models_dir) -> None:
    """The tiny core-loadable TI2V-5B under ``models/diffusion_models/`` (listed by core's UNETLoader)."""
    unet = Path(models_dir) / "diffusion_models" / CORE_UNET
    if not unet.exists():
        write_tiny_wan22(unet)
