"""The CogVideoX image-to-video training objective (one step's loss).

Follows THUDM/CogVideo ``finetune/models/cogvideox_i2v/lora_trainer.py`` ``compute_loss`` (the same
code serves 1.0 and 1.5), with two changes that make training see exactly what our inference
feeds the model (``samplers/cogvideox.prepare_latents``):

- the image latent is scaled like inference: ``x 1/scaling_factor`` when the VAE says
  ``invert_scale_latents`` (CogVideoX 1.5), else ``x scaling_factor`` (upstream uses
  ``x scaling_factor`` for both);
- for 1.5 with an odd number of latent frames the first latent frame is repeated in front of the
  video latents (as upstream) and the image latent is repeated the same way (as inference does;
  upstream pads it with zeros there);
- RoPE comes from the inference function (identical to upstream at the native size).

Kept from upstream: noise augmentation of the first frame before encoding it (log sigma ~
N(-3, 0.5)), uniform integer timesteps over the scheduler's 1000 training steps, ``add_noise`` on
the cached video latents, the transformer's v-prediction turned into an x0 estimate with
``get_velocity``, and the loss ``mean(1/(1 - alphas_cumprod[t]) * (x0_pred - x0)^2)``.
Every random draw comes from one CPU generator, so a resumed run repeats the same draws.
"""
from __future__ import annotations

from typing import Any


def i2v_loss(model, transformer, vae, scheduler, batch: dict, gen, *, noise_mean: float = -3.0,
             noise_std: float = 0.5) -> Any:
    """Scalar float32 loss of one batch (``cache.load_batch`` layout) for ``transformer``."""
    import torch

    from ..samplers.cogvideox import rotary_embeddings

    latents, embeds, image = batch["latents"], batch["embeds"], batch["image"]
    device, dtype = latents.device, latents.dtype
    b, frames = latents.shape[:2]
    pt = transformer.config.patch_size_t
    ncopy = frames % pt if pt else 0
    if ncopy:
        latents = torch.cat([latents[:, :1].repeat(1, ncopy, 1, 1, 1), latents], dim=1)

    sigma = torch.exp(torch.normal(noise_mean, noise_std, size=(1,), generator=gen)).to(device, dtype)
    noisy_image = image + torch.randn(image.shape, generator=gen).to(device, dtype) * sigma
    with torch.no_grad():  # the VAE is frozen: no activations kept for backward
        img = vae.encode(noisy_image.unsqueeze(2)).latent_dist.sample(gen).to(dtype)  # [B,C,1,h,w]
    factor = vae.config.scaling_factor
    img = img / factor if vae.config.invert_scale_latents else img * factor
    img = img.permute(0, 2, 1, 3, 4)
    img = torch.cat([img, img.new_zeros((b, frames - 1) + img.shape[2:])], dim=1)
    if ncopy:
        img = torch.cat([img[:, :ncopy], img], dim=1)

    t = torch.randint(0, scheduler.config.num_train_timesteps, (b,), generator=gen).to(device)
    noise = torch.randn(latents.shape, generator=gen).to(device, dtype)
    noisy = scheduler.add_noise(latents, noise, t)
    height, width = image.shape[-2:]
    rope = rotary_embeddings(model, height, width, latents.shape[1])
    ofs = None if transformer.config.ofs_embed_dim is None else latents.new_full((1,), 2.0)
    pred = transformer(hidden_states=torch.cat([noisy, img], dim=2), encoder_hidden_states=embeds, timestep=t,
                       ofs=ofs, image_rotary_emb=rope, return_dict=False)[0]
    x0 = scheduler.get_velocity(pred.float(), noisy.float(), t)
    weights = (1 / (1 - scheduler.alphas_cumprod.to(device)[t])).float().view(b, 1, 1, 1, 1)
    return (weights * (x0 - latents.float()) ** 2).reshape(b, -1).mean(dim=1).mean()
