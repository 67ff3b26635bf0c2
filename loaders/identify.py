"""Name what a checkpoint looks like from its tensor names and shapes (for error messages and
family dispatch). Never from the file name."""
from __future__ import annotations

# (description, keys that must all be present (prefix match on any key))
_SIGNATURES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Open-Sora ST-DiT (STDiT3)", ("x_embedder.proj.weight", "spatial_blocks.0.", "temporal_blocks.0.")),
    ("Open-Sora VAE v1.2", ("spatial_vae.", "temporal_vae.")),
    ("Open-Sora VAE v1.2 (spatial half only)", ("spatial_vae.",)),
    ("Open-Sora VAE v1.2 (temporal half only)", ("temporal_vae.",)),
    ("Wan transformer", ("patch_embedding.", "head.modulation", "blocks.0.self_attn.")),
    ("Wan transformer (ComfyUI prefix)", ("model.diffusion_model.patch_embedding.", "model.diffusion_model.head.modulation")),
    ("Wan transformer (diffusers names)", ("patch_embedding.", "condition_embedder.time_proj.", "blocks.0.attn1.")),
    ("Wan VAE", ("encoder.downsamples.", "decoder.upsamples.", "encoder.middle.")),
    ("Wan VAE (diffusers names)", ("encoder.down_blocks.", "decoder.mid_block.attentions.0.to_qkv.")),
    ("umT5 text encoder", ("encoder.block.1.layer.0.SelfAttention.relative_attention_bias.",)),
    ("CogVideoX transformer", ("patch_embed.proj.", "transformer_blocks.0.norm1.linear.weight")),
    ("CogVideoX VAE", ("encoder.down_blocks.0.resnets.0.", "decoder.up_blocks.0.", "encoder.conv_in.conv.")),
    ("T5 text encoder", ("encoder.block.0.layer.0.SelfAttention.q.weight",)),
    ("Flux transformer", ("double_blocks.0.",)),
    ("Stable Diffusion checkpoint (UNet)", ("model.diffusion_model.input_blocks.",)),
    ("MimicMotion (UNet + PoseNet)", ("unet.conv_in.weight", "pose_net.conv_layers.0.weight")),
    ("MimicMotion UNet without PoseNet (unet.* keys only)", ("unet.conv_in.weight", "unet.down_blocks.0.resnets.0.spatial_res_block.")),
    ("MimicMotion PoseNet", ("conv_layers.0.weight", "conv_layers.14.weight", "final_proj.weight", "scale")),
    ("Stable Video Diffusion UNet (diffusers)", ("down_blocks.0.resnets.0.spatial_res_block.", "add_embedding.linear_1.weight")),
    ("Stable Diffusion UNet (diffusers)", ("down_blocks.0.resnets.0.", "mid_block.", "conv_in.weight", "time_embedding.")),
    ("image VAE (AutoencoderKL)", ("encoder.down_blocks.0.resnets.0.", "decoder.up_blocks.0.", "quant_conv.weight")),
    ("image VAE (original layout)", ("encoder.down.0.block.0.", "decoder.up.0.block.0.")),
    ("SGM-VFI / EMA-VFI frame interpolation network", ("feature_bone.",)),
    ("RIFE frame interpolation network (IFNet)", ("block0.conv0.", "block1.conv0.")),
    ("GMFlow optical flow network", ("backbone.", "transformer.layers.0.")),
)


def describe_checkpoint(keys) -> str:
    """A human name for the model these keys belong to, or ``"an unknown model"``."""
    keys = list(keys)
    for name, needed in _SIGNATURES:
        if all(any(k.startswith(n) for k in keys) for n in needed):
            return name
    sample = ", ".join(sorted(keys)[:4])
    return f"an unknown model (first keys: {sample})" if keys else "an empty checkpoint"
