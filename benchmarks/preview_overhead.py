"""Live-preview cost per sampling step (samplers/preview.py) at real latent sizes, and what muxing
audio adds to Save Video.

    OMP_NUM_THREADS=1 python benchmarks/preview_overhead.py [--repeat 20]

Baselines measured in the same run: for the preview, ComfyUI core's way of doing the same map
(``torch.nn.functional.linear`` on the channels-last latent frame, then PIL) — the ratio says what
our numpy path costs against it; for audio, the same clip saved without sound. Also peak memory.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _pack import import_pack, peak_rss_mb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

#: family -> (latent shape as the sampler holds it, frame axis): CogVideoX 1.0 49 frames at 480x720,
#: Open-Sora 480p 51 frames (480x854 bucket: 60x106 latents, 51 frames -> 15 latent frames).
SHAPES = {"cogvideox": ((1, 13, 16, 60, 90), 1), "opensora": ((1, 4, 15, 60, 106), 2)}


def _time(fn, repeat: int) -> float:
    fn()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    import_pack()
    import numpy as np
    import torch
    from PIL import Image

    from motioncomic.samplers import preview as P

    for family, (shape, axis) in SHAPES.items():
        factors, bias = (np.asarray(P.COGVIDEOX_FACTORS, np.float32), None) if family == "cogvideox" \
            else P.opensora_factors()
        ours = P.Previewer(factors, bias, frame_axis=axis)
        latents = torch.randn(shape)
        weight = torch.from_numpy(np.ascontiguousarray(factors.T))
        b = None if bias is None else torch.from_numpy(bias)

        def core_way():
            x = latents[0].select(axis - 1, shape[axis] // 2)
            rgb = torch.nn.functional.linear(x.movedim(0, -1), weight, bias=b)
            Image.fromarray(((rgb + 1) / 2).clamp(0, 1).mul(255).to(torch.uint8).numpy())

        t_core, t_ours = _time(core_way, args.repeat), _time(lambda: ours(latents), args.repeat)
        print(f"preview {family:9s} latents {tuple(shape)}: {t_ours * 1e3:.2f} ms per step, "
              f"{t_ours / t_core:.2f}x core's torch.linear path ({t_core * 1e3:.2f} ms)")

    import tiny_faces

    from motioncomic.media.video import write_video

    frames = np.random.default_rng(0).random((49, 480, 720, 3), dtype=np.float32)
    sound = tiny_faces.tone(49 / 8.0)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_video(frames, Path(tmp) / "silent.mp4", 8.0, "mp4", progress=False)
        silent = time.perf_counter() - t0
        t0 = time.perf_counter()
        write_video(frames, Path(tmp) / "sound.mp4", 8.0, "mp4", progress=False, audio=sound)
        with_sound = time.perf_counter() - t0
    print(f"save 49 frames 480x720 mp4 with a 6.1 s stereo AAC track: {with_sound:.2f} s, "
          f"{with_sound / silent:.2f}x the same clip without sound ({silent:.2f} s)")
    print(f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
