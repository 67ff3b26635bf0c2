"""Fit latent -> RGB preview factors for a real VAE by least squares (samplers/preview.fit_factors).

    python benchmarks/fit_latent_rgb.py opensora models/opensora/OpenSora-VAE-v1.2/model.safetensors
    python benchmarks/fit_latent_rgb.py cogvideox models/CogVideo/CogVideoX-5b-I2V

Encodes the character images of tests/data/characters as still clips (17 frames), pairs every
latent cell with the mean input colour of the pixels it covers (-1..1) and solves for the factors
and bias. Prints them (paste into samplers/preview.py, with the weights' name as the source), the
fit's RMS error against the current factors' error on the same cells (ratio), and peak memory.
Latents are taken as the sampler holds them: Open-Sora normalised, CogVideoX x scaling_factor.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from _pack import import_pack, peak_rss_mb

ROOT = Path(__file__).resolve().parents[1]


def _clips(size: int, frames: int):
    import numpy as np
    import torch
    from PIL import Image

    for p in sorted((ROOT / "tests" / "data" / "characters").glob("*.png")):
        im = np.asarray(Image.open(p).convert("RGB").resize((size, size)), np.float32) / 127.5 - 1.0
        x = torch.from_numpy(im).permute(2, 0, 1)[None, :, None].expand(1, 3, frames, size, size)
        yield x.contiguous()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("family", choices=["opensora", "cogvideox"])
    ap.add_argument("vae", help="Open-Sora VAE file, or a CogVideoX diffusers folder (with vae/)")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    import_pack()
    import numpy as np
    import torch

    from motioncomic.samplers import preview as P

    if args.family == "opensora":
        from motioncomic.loaders.opensora.vae import load_opensora_vae

        vae = load_opensora_vae(args.vae, device=args.device)
        encode = lambda x: vae.encode(x, sample=False)  # noqa: E731 - [B, C, T, h, w]
        current = P.opensora_factors()
    else:
        from diffusers import AutoencoderKLCogVideoX

        folder = Path(args.vae) / "vae" if (Path(args.vae) / "vae").is_dir() else Path(args.vae)
        vae = AutoencoderKLCogVideoX.from_pretrained(str(folder)).to(args.device).eval()
        encode = lambda x: vae.encode(x).latent_dist.mode() * vae.config.scaling_factor  # noqa: E731
        current = (np.asarray(P.COGVIDEOX_FACTORS, np.float32), None)
    lat, rgb = [], []
    with torch.no_grad():
        for x in _clips(args.size, 17):
            z = encode(x.to(args.device)).float().cpu()[0]  # [C, T', h, w]
            c, _t, h, w = z.shape
            target = torch.nn.functional.adaptive_avg_pool2d(x[0, :, 0], (h, w))  # [3, h, w]
            lat.append(z[:, 0].reshape(c, -1).T.numpy())  # the first latent frame is the still image
            rgb.append(target.reshape(3, -1).T.numpy())
    lat, rgb = np.concatenate(lat), np.concatenate(rgb)
    factors, bias = P.fit_factors(lat, rgb)
    fit_err = np.sqrt(((lat @ factors + bias - rgb) ** 2).mean())
    cur = lat @ current[0] + (0 if current[1] is None else current[1])
    cur_err = np.sqrt(((cur - rgb) ** 2).mean()) if current[0].shape[0] == lat.shape[1] else float("nan")
    print("factors = (")
    for row in factors:
        print("    (" + ", ".join(f"{v:.4f}" for v in row) + "),")
    print(")\nbias = (" + ", ".join(f"{v:.4f}" for v in bias) + ")")
    print(f"{len(lat)} latent cells: fitted RMS error {fit_err:.4f} (-1..1 scale), "
          f"{fit_err / cur_err:.2f}x the current factors' {cur_err:.4f}; peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
