"""Letterbox for any model: cost of Letterbox Image + Crop to Character against what core does anyway.

    OMP_NUM_THREADS=1 python benchmarks/letterbox.py [--frames 121] [--size 1024x768]

Baseline (same run): core ComfyUI's start-image path, a bilinear resize of the image to the model
frame (``common_upscale`` in ``Wan22ImageToVideoLatent``), plus a copy of the decoded clip. Ours:
choose the frame (``choose_preset_frame``, cached per size), letterbox the image (antialiased
bicubic + pad) and crop every frame of the clip back. Prints times as ratios and peak memory.
"""
from __future__ import annotations

import argparse
import time

from _pack import import_pack, peak_rss_mb


def _best(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=121, help="clip length (Wan 2.2 TI2V-5B default 121)")
    ap.add_argument("--size", default="1024x768", help="source HxW (3:4 portrait by default)")
    args = ap.parse_args()
    h, w = map(int, args.size.split("x"))
    import_pack()
    import torch
    import torch.nn.functional as F

    from motioncomic.samplers import letterbox as lb

    p = lb.preset("Wan 2.2 TI2V 5B (1280x704, x32)")
    image = torch.rand(1, h, w, 3)
    t0 = time.perf_counter()
    lb._best_area_frame.cache_clear()
    frame = lb.choose_preset_frame(p, (h, w))
    choose_ms = (time.perf_counter() - t0) * 1000
    framed, plan = lb.letterbox_images(image, p)
    clip = framed.expand(args.frames, -1, -1, -1).contiguous()  # stands in for the decoded frames
    rss0 = peak_rss_mb()

    def core():
        F.interpolate(image.movedim(-1, 1), size=frame, mode="bilinear", align_corners=False)
        clip.clone()

    def ours():
        lb.letterbox_images(image, p)
        lb.crop_clip(clip, plan, even=True)

    t_core, t_ours = _best(core), _best(ours)
    print(f"frame choice for {w}x{h}: {frame[1]}x{frame[0]} in {choose_ms:.1f} ms (first call; cached after)")
    print(f"core resize + clip copy ({args.frames} frames {frame[1]}x{frame[0]}): {t_core * 1000:7.1f} ms = 1.00x")
    print(f"letterbox + crop back:                          {t_ours * 1000:7.1f} ms = {t_ours / t_core:.2f}x")
    print(f"peak RSS {peak_rss_mb():.0f} MB (clip alone {clip.numel() * 4 / 2**20:.0f} MB; "
          f"before timing {rss0:.0f} MB)")


if __name__ == "__main__":
    main()
