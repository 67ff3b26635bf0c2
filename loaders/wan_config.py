"""What a Wan checkpoint is, from its config or tensor shapes (never its file name), and the rules
of each variant we animate with.

- ``ti2v-5b`` (Wan 2.2 TI2V-5B): one transformer, ``in_channels == out_channels == 48`` (the
  Wan 2.2 VAE's latent channels); the image enters as the first latent frame with its own
  timestep ("expand timesteps"). Frames of about 704x1280 pixels in any aspect, multiples of 32
  (VAE stride 16 x patch 2), 4N+1 frames (121 by default), 24 fps.
- ``i2v-a14b`` (Wan 2.2 I2V-A14B): two experts of identical shape (high-noise ``transformer``,
  low-noise ``transformer_2``, switched at ``boundary_ratio`` 0.9 of the 1000 train steps),
  ``in_channels`` 36 = 16 noise + 4 mask + 16 image-latent channels, ``out_channels`` 16, no
  image embedder; the Wan 2.1 VAE (16 channels, stride 8): multiples of 16, 480p or 720p area,
  81 frames by default, 16 fps.

Refused with what they are: text-to-video transformers (``in == out == 16``: Wan 2.1 T2V 1.3B/14B,
Wan 2.2 T2V-A14B), Wan 2.1 I2V (it needs the CLIP image encoder, not supported yet), VACE, Fun
(control/camera/inpaint variants with other input channels), Animate, S2V and HuMo.
"""
from __future__ import annotations

from ..errors import CheckpointError
from .identify import describe_checkpoint
from .video_model import FrameCounts, FrameSpec

HF_REPOS = {
    "ti2v-5b": "Wan-AI/Wan2.2-TI2V-5B-Diffusers",
    "i2v-a14b": "Wan-AI/Wan2.2-I2V-A14B-Diffusers",
}
COMFY_FILES = {
    "ti2v-5b": ("wan2.2_ti2v_5B_fp16.safetensors", "wan2.2_vae.safetensors"),
    "i2v-a14b": ("wan2.2_i2v_high_noise_14B_fp16.safetensors + wan2.2_i2v_low_noise_14B_fp16.safetensors "
                 "(or the _fp8_scaled ones)", "wan_2.1_vae.safetensors"),
}
COMFY_REPO = "Comfy-Org/Wan_2.2_ComfyUI_Repackaged (split_files/)"
NAMES = {"ti2v-5b": "Wan 2.2 TI2V-5B", "i2v-a14b": "Wan 2.2 I2V-A14B"}
#: VAE generation each variant needs.
VAE_GENERATION = {"ti2v-5b": "2.2", "i2v-a14b": "2.1"}

#: Every Wan transformer uses 128-dimensional attention heads (1.3B: 12, 5B: 24, 14B: 40 heads).
HEAD_DIM = 128
BASE_TRANSFORMER = dict(
    patch_size=(1, 2, 2), num_attention_heads=40, attention_head_dim=HEAD_DIM, in_channels=36,
    out_channels=16, text_dim=4096, freq_dim=256, ffn_dim=13824, num_layers=40, cross_attn_norm=True,
    qk_norm="rms_norm_across_heads", eps=1e-6, image_dim=None, added_kv_proj_dim=None,
    rope_max_seq_len=1024, pos_embed_seq_len=None,
)

WAN21_MEAN = [-0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508,
              0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921]
WAN21_STD = [2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743,
             3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.9160]
WAN22_MEAN = [-0.2289, -0.0052, -0.1323, -0.2339, -0.2799, 0.0174, 0.1838, 0.1557,
              -0.1382, 0.0542, 0.2813, 0.0891, 0.1570, -0.0098, 0.0375, -0.1825,
              -0.2246, -0.1207, -0.0698, 0.5109, 0.2665, -0.2108, -0.2158, 0.2502,
              -0.2055, -0.0322, 0.1109, 0.1567, -0.0729, 0.0899, -0.2799, -0.1230,
              -0.0313, -0.1649, 0.0117, 0.0723, -0.2839, -0.2083, -0.0520, 0.3748,
              0.0152, 0.1957, 0.1433, -0.2944, 0.3573, -0.0548, -0.1681, -0.0667]
WAN22_STD = [0.4765, 1.0364, 0.4514, 1.1677, 0.5313, 0.4990, 0.4818, 0.5013,
             0.8158, 1.0344, 0.5894, 1.0901, 0.6885, 0.6165, 0.8454, 0.4978,
             0.5759, 0.3523, 0.7135, 0.6804, 0.5833, 1.4146, 0.8986, 0.5659,
             0.7069, 0.5338, 0.4889, 0.4917, 0.4069, 0.4999, 0.6866, 0.4093,
             0.5709, 0.6065, 0.6415, 0.4944, 0.5726, 1.2042, 0.5458, 1.6887,
             0.3971, 1.0600, 0.3943, 0.5537, 0.5444, 0.4089, 0.7468, 0.7744]

#: diffusers' Wan scheduler (UniPC on flow sigmas); ``flow_shift`` per variant below.
SCHEDULER_CONFIG = dict(
    _class_name="UniPCMultistepScheduler", prediction_type="flow_prediction", use_flow_sigmas=True,
    num_train_timesteps=1000, solver_order=2, solver_type="bh2", predict_x0=True, lower_order_final=True,
    final_sigmas_type="zero", timestep_spacing="linspace", beta_schedule="linear", beta_start=0.0001,
    beta_end=0.02,
)
#: Official sampling defaults (Wan 2.2 repository configs).
DEFAULTS = {
    "ti2v-5b": dict(steps=50, cfg=5.0, cfg_2=None, flow_shift=5.0, boundary_ratio=None, expand_timesteps=True),
    "i2v-a14b": dict(steps=40, cfg=3.5, cfg_2=3.5, flow_shift=5.0, boundary_ratio=0.9, expand_timesteps=False),
}
#: Pixel areas (name -> height x width of the 16:9 frame), the first is the default.
AREAS = {
    "ti2v-5b": {"720p": 704 * 1280, "480p": 480 * 832},
    "i2v-a14b": {"480p": 480 * 832, "720p": 720 * 1280},
}

_REFUSED_KEYS = (
    ("vace_patch_embedding.weight", "a Wan VACE model (video editing/control)"),
    ("control_adapter.conv.weight", "a Wan Fun camera-control model"),
    ("casual_audio_encoder.encoder.final_linear.weight", "Wan 2.2 S2V (speech-to-video)"),
    ("audio_proj.audio_proj_glob_1.layer.bias", "HuMo (audio-driven Wan)"),
    ("face_adapter.fuser_blocks.0.k_norm.weight", "Wan 2.2 Animate"),
    ("motion_encoder.dec.direction.weight", "Wan 2.2 Animate"),
    ("vace_blocks.0.after_proj.bias", "a Wan VACE model (video editing/control)"),
)
_USE = ("For image-to-video use Wan 2.2 TI2V-5B ({r5}, or {f5}) or Wan 2.2 I2V-A14B ({r14}, or the two "
        "wan2.2_i2v_*_noise_14B files) from {comfy}.")


def _use() -> str:
    return _USE.format(r5=HF_REPOS["ti2v-5b"], f5=COMFY_FILES["ti2v-5b"][0], r14=HF_REPOS["i2v-a14b"],
                       comfy=COMFY_REPO)


def variant_of(cin: int, cout: int, has_image_embedder: bool, what: str) -> str:
    """``ti2v-5b`` / ``i2v-a14b`` from the transformer's channels; other Wan models raise."""
    if cin == cout == 48:
        return "ti2v-5b"
    if cin == cout:
        raise CheckpointError(
            f"{what} is a Wan text-to-video transformer (Wan 2.1 T2V 1.3B/14B or Wan 2.2 T2V-A14B: "
            f"in_channels {cin} = its latent channels), which cannot take an image. " + _use())
    if cin == 36 and cout == 16 and has_image_embedder:
        raise CheckpointError(
            f"{what} is a Wan 2.1 image-to-video model (480p/720p, with a CLIP image embedder); this "
            "pack does not run Wan 2.1 I2V yet. " + _use())
    if cin == 36 and cout == 16:
        return "i2v-a14b"
    raise CheckpointError(
        f"{what} is a Wan variant with {cin} input channels for {cout} latent channels (a Wan Fun "
        "control/inpaint model or another fine-tune with extra conditioning inputs), not an "
        "image-to-video model this pack runs. " + _use())


def variant_of_config(cfg: dict, what: str = "this model") -> str:
    """The variant of a diffusers ``transformer/config.json``."""
    return variant_of(cfg.get("in_channels", 16), cfg.get("out_channels", 16), bool(cfg.get("image_dim")), what)


def transformer_config_from_shapes(shapes: dict, what: str) -> tuple[str, dict]:
    """(variant, diffusers config) of a single-file Wan transformer; ``shapes`` has diffusers key
    names (see ``wan_keys.transformer_key``)."""
    for key, name in _REFUSED_KEYS:
        if key in shapes:
            raise CheckpointError(f"{what} is {name}, not an image-to-video model. " + _use())
    if "patch_embedding.weight" not in shapes or "scale_shift_table" not in shapes:
        raise CheckpointError(
            f"{what} is not a Wan transformer; it looks like {describe_checkpoint(shapes)}. Put Wan "
            "transformers (wan2.2_*.safetensors) in models/diffusion_models/.")
    dim, cin = shapes["patch_embedding.weight"][:2]
    patch = tuple(shapes["patch_embedding.weight"][2:])
    cout = shapes["proj_out.weight"][0] // (patch[0] * patch[1] * patch[2])
    has_img = "condition_embedder.image_embedder.norm1.weight" in shapes
    variant = variant_of(cin, cout, has_img, what)
    layers = 1 + max(int(k.split(".")[1]) for k in shapes if k.startswith("blocks."))
    cfg = dict(BASE_TRANSFORMER)
    cfg.update(
        patch_size=patch, num_attention_heads=max(1, dim // HEAD_DIM), in_channels=cin, out_channels=cout,
        text_dim=shapes["condition_embedder.text_embedder.linear_1.weight"][1],
        freq_dim=shapes["condition_embedder.time_embedder.linear_1.weight"][1],
        ffn_dim=shapes["blocks.0.ffn.net.0.proj.weight"][0], num_layers=layers,
        cross_attn_norm="blocks.0.norm2.weight" in shapes,
    )
    return variant, cfg


def vae_generation(shapes: dict) -> str:
    """``2.1`` or ``2.2`` from a Wan VAE's shapes (diffusers names): its latent channels."""
    z = shapes.get("post_quant_conv.weight", (0,))[0]
    if z == 48:
        return "2.2"
    if z == 16:
        return "2.1"
    raise CheckpointError(f"not a Wan VAE ({z} latent channels); it looks like {describe_checkpoint(shapes)}")


def vae_config_from_shapes(shapes: dict) -> dict:
    """diffusers ``AutoencoderKLWan`` config from a single-file VAE's shapes (diffusers names)."""
    if "encoder.conv_in.weight" not in shapes or "post_quant_conv.weight" not in shapes:
        raise CheckpointError(f"not a Wan VAE; it looks like {describe_checkpoint(shapes)}")
    gen = vae_generation(shapes)
    base = shapes["encoder.conv_in.weight"][0]
    levels = 1 + max(int(k.split(".")[2]) for k in shapes if k.startswith("encoder.down_blocks."))
    if gen == "2.2":
        widths = [shapes[f"encoder.down_blocks.{i}.resnets.0.conv1.weight"][0] for i in range(levels)]
        res = 1 + max(int(k.split(".")[4]) for k in shapes if k.startswith("encoder.down_blocks.0.resnets."))
        tdown = [f"encoder.down_blocks.{i}.downsampler.time_conv.weight" in shapes for i in range(levels - 1)]
    else:  # flat list: residual blocks then a resample per level
        idx = sorted({int(k.split(".")[2]) for k in shapes if k.startswith("encoder.down_blocks.")})
        widths, tdown, res, count = [], [], 0, 0
        for i in idx:
            if f"encoder.down_blocks.{i}.resample.1.weight" in shapes:
                tdown.append(f"encoder.down_blocks.{i}.time_conv.weight" in shapes)
                res, count = count, 0
            elif f"encoder.down_blocks.{i}.conv1.weight" in shapes:
                if count == 0:
                    widths.append(shapes[f"encoder.down_blocks.{i}.conv1.weight"][0])
                count += 1
    mult = [w // base for w in widths]
    dec_base = shapes["decoder.conv_out.weight"][1] // mult[0]
    z = shapes["post_quant_conv.weight"][0]
    cfg = dict(base_dim=base, z_dim=z, dim_mult=mult, num_res_blocks=res, attn_scales=[],
               temperal_downsample=tdown, dropout=0.0)
    if gen == "2.2":
        cfg.update(decoder_base_dim=dec_base, is_residual=True, in_channels=12, out_channels=12, patch_size=2,
                   scale_factor_spatial=16, scale_factor_temporal=4, latents_mean=WAN22_MEAN,
                   latents_std=WAN22_STD)
    else:
        cfg.update(latents_mean=WAN21_MEAN, latents_std=WAN21_STD, scale_factor_spatial=8, scale_factor_temporal=4)
    return cfg


def rules_for(variant: str, vae_stride: int, patch: int) -> dict:
    """The VideoModel rules (frame, frame counts, text tokens, fps) of a variant."""
    if variant == "ti2v-5b":
        counts, fps = FrameCounts(step=4, offset=1, minimum=5, maximum=241, default=121), 24.0
    else:
        counts, fps = FrameCounts(step=4, offset=1, minimum=5, maximum=161, default=81), 16.0
    areas = AREAS[variant]
    frame = FrameSpec("area", multiple=vae_stride * patch, areas=dict(areas), default_resolution=next(iter(areas)))
    return dict(frame=frame, frame_counts=counts, text_tokens=512, fps=fps)
