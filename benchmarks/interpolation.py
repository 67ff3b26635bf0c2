"""Interpolation quality on real clips, speed and memory, every figure against baselines of the same run.

* **Quality** on the real image-to-video clips in ``../shared/data/clips/`` (animated WebP, read with
  Pillow; skipped with a message when the folder is absent): for ``--triples`` evenly spaced
  (i, i+1, i+2) of each clip, frame i+1 is synthesised from i and i+2 at t = 0.5 by

  - ``crossfade``: ``(a + b) / 2`` (the quality baseline),
  - ``plain``: the plain two-way DIS warp, implemented here (DIS medium both ways at the frame's
    size, ``0.5·(I0(x + 0.5·F10) + I1(x + 0.5·F01))``, no occlusion handling; the time baseline),
  - ``flow``: our default (``motioncomic.interpolation.flow``), and ``flow_fast`` (its DIS ultrafast
    preset, Load Interpolator's "optical flow, fast"),
  - ``rife`` with ``--rife FILE`` (a real RIFE 4.6+ file) and ``sgm_vfi`` with ``--sgm FILE``,
  - ``reference`` with ``--reference DIR``: the ``flow`` of another checkout of the pack, e.g. the
    0.1.0 release that issue 11 measured on its held-out clips
    (``git worktree add /tmp/mc-0.1.0 8080e1c``): the same code on both sets of clips tells which
    of this benchmark's figures is comparable with the held-out one.

  Prints PSNR gain over the cross-fade per clip and mean, and ms per synthesised frame with the ratio
  to ``plain``.
* **Timing**: when each true middle frame was taken (from DIS flows from it to both inputs), and
  ``flow``'s gain on the quality triples at t = 0.5, at that measured time and at the best t of a
  grid (what uneven frame timing in the clips costs every two-frame interpolator), and ``flow``'s
  and ``plain``'s (and ``reference``'s) gains on the evenly timed triples (a model's own frames are
  evenly timed; these clips were resampled to 15/30 fps by picking the nearest frame, see
  docs/interpolation.md).
* **Repeated frames** on the same clips: x2 without and with ``duplicates=1.0`` (the clips that
  repeat every other frame play evenly with it; the others must not change).
* **Loops**: a synthetic idle loop at x2 with ``loop`` off and open: the seam's step against the
  median step (off, the loop jumps by a whole input frame there).
* **Speed** at ``--sizes`` (default 480x720 and 720x1280): synthetic frames (textured background, a
  disc on a curve) through ``iter_interpolate`` at x2: synthesised frames/s of crossfade, plain, flow
  and RIFE 4.25/4.26 (random weights: its speed does not depend on them; ``--rife`` for a real file).
* **Memory**: ``--mem-frames`` (default 16 and 128) input frames generated on the fly and streamed
  through ``iter_interpolate`` with ``flow`` (outputs dropped, as a video writer would), each count in
  its own process: peak RSS of the loop (VmHWM reset after the imports); the ratio must be <= 1.2.

    OMP_NUM_THREADS=1 python benchmarks/interpolation.py [--clips DIR] [--triples 12] [--rife FILE]
        [--reference DIR] [--sizes 480x720 720x1280] [--pairs 4] [--mem-size 480x720] [--mem-frames 16 128]
        [--skip quality timing repeats loops speed memory]
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

from _pack import import_pack as _import_pack

ROOT = Path(__file__).resolve().parents[1]
CLIPS = ROOT.parent / "shared" / "data" / "clips"


# ----------------------------------------------------------------------------- methods
def grey(x):
    """An RGB frame ``[H, W, 3]`` in 0..1 as the 8-bit grey image DIS takes."""
    import numpy as np

    return np.clip((x @ np.float32([0.299, 0.587, 0.114])) * 255 + 0.5, 0, 255).astype(np.uint8)


class PlainWarp:
    """The baseline: DIS medium both ways at full size, two backward warps, a plain blend (numpy/OpenCV)."""

    name = "plain"

    def __init__(self):
        import cv2

        self.dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)

    def __call__(self, a, b, t: float = 0.5):
        import cv2
        import numpy as np

        g0, g1 = grey(a), grey(b)
        f01, f10 = self.dis.calc(g0, g1, None), self.dis.calc(g1, g0, None)
        h, w = g0.shape
        gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        w0 = cv2.remap(a, gx + t * f10[..., 0], gy + t * f10[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        w1 = cv2.remap(b, gx + (1 - t) * f01[..., 0], gy + (1 - t) * f01[..., 1], cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE)
        return (1 - t) * w0 + t * w1


def crossfade(a, b, t: float = 0.5):
    return (1 - t) * a + t * b


def ours(interp):
    """numpy [H,W,3] -> numpy through an Interpolator's pair (device tensors as the entry gives them)."""
    import torch

    dev = getattr(interp, "device", None) or "cpu"

    def run(a, b, t: float = 0.5):
        x0, x1 = (torch.from_numpy(x)[None].to(dev) for x in (a, b))
        out = interp.pair(x0, x1, t)
        if out.device.type == "cuda":
            torch.cuda.synchronize()
        return out[0].cpu().numpy()

    return run


def random_rife(label: str = "4.25/4.26"):
    import torch

    from motioncomic.interpolation.rife.layouts import BY_LABEL
    from motioncomic.interpolation.rife.loader import RIFEInterpolator
    from motioncomic.interpolation.rife.network import IFNet

    torch.manual_seed(0)
    return RIFEInterpolator(IFNet(BY_LABEL[label]).eval().requires_grad_(False), device="cpu")


def methods(args) -> dict:
    _import_pack()
    from motioncomic.interpolation.flow import FlowInterpolator

    out = {"crossfade": crossfade, "plain": PlainWarp(), "flow": ours(FlowInterpolator(device="cpu")),
           "flow_fast": ours(FlowInterpolator(device="cpu", preset="ultrafast"))}
    if args.rife:
        from motioncomic.interpolation.rife.loader import load_rife

        out["rife"] = ours(load_rife(args.rife, device="cpu"))
    if args.sgm:
        from motioncomic.interpolation.sgm_vfi.loader import load_sgm_vfi

        out["sgm_vfi"] = ours(load_sgm_vfi(args.sgm, device="cpu"))
    if args.reference:
        out["reference"] = reference_flow(args.reference)
    return out


def reference_flow(root: Path):
    """The default ``flow`` interpolator of another checkout of the pack at ``root`` (imported beside
    this one as ``motioncomic_reference``), as a numpy function like :func:`ours`."""
    pack = _import_pack(root, name="motioncomic_reference")
    import importlib

    flow = importlib.import_module(pack.__name__ + ".interpolation.flow")
    return ours(flow.FlowInterpolator())


# ----------------------------------------------------------------------------- quality
def read_clip(path: Path):
    import numpy as np
    from PIL import Image

    im = Image.open(path)
    frames = []
    for k in range(im.n_frames):
        im.seek(k)
        frames.append(np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0)
    return frames


def psnr(x, ref) -> float:
    import numpy as np

    mse = float(np.mean((np.clip(x, 0, 1) - ref) ** 2))
    return 10 * math.log10(1.0 / max(mse, 1e-12))


def triples(count: int, n: int) -> list[int]:
    """The first indices ``i`` of ``n`` evenly spaced (i, i+1, i+2) of a clip of ``count`` frames."""
    idx = list(range(count - 2))
    if len(idx) > n:
        idx = [idx[round(j * (len(idx) - 1) / (n - 1))] for j in range(n)]
    return idx


def quality(folder: Path, n: int, fns: dict) -> None:
    import numpy as np

    clips = sorted(folder.glob("*.webp"))
    if not clips:
        print(f"quality on real clips: SKIPPED, no *.webp clips in {folder} (pass --clips DIR)")
        return
    gains = {m: {} for m in fns}
    seconds = {m: 0.0 for m in fns}
    count = 0
    for path in clips:
        frames = read_clip(path)
        idx = triples(len(frames), n)
        scores = {m: [] for m in fns}
        for i in idx:
            a, truth, b = frames[i], frames[i + 1], frames[i + 2]
            for m, fn in fns.items():
                t0 = time.perf_counter()
                out = fn(a, b)
                seconds[m] += time.perf_counter() - t0
                scores[m].append(psnr(out, truth))
        count += len(idx)
        name = path.stem.removesuffix("-1").removeprefix("video_")
        for m in fns:
            gains[m][name] = float(np.mean(scores[m]) - np.mean(scores["crossfade"]))
        h, w = frames[0].shape[:2]
        print(f"  {name}: {len(frames)} frames {w}x{h}, {len(idx)} triples, cross-fade {np.mean(scores['crossfade']):.2f} dB")
    names = list(gains["crossfade"])
    print(f"quality on {len(clips)} real clips of {folder} (middle frame of (i, i+2), gain over cross-fade, dB):")
    print("  " + "method".ljust(10) + "".join(n[:16].rjust(17) for n in names) + "     mean   ms/frame  x plain")
    base_ms = 1000 * seconds["plain"] / count
    for m in fns:
        ms = 1000 * seconds[m] / count
        print("  " + m.ljust(10) + "".join(f"{gains[m][n]:+17.2f}" for n in names)
              + f"  {np.mean(list(gains[m].values())):+7.2f}  {ms:9.1f}  {ms / base_ms:7.2f}")


# ----------------------------------------------------------------------------- timing
def middle_time(a, m, b, dis) -> float | None:
    """When the true middle frame ``m`` was taken, as a time in [0, 1] between ``a`` and ``b``: DIS
    flows from ``m`` to each, ``F_ma`` and ``F_mb``; a pixel of ``m`` on a straight path at time t
    satisfies ``F_ma + t·(F_mb - F_ma) = 0``, and t is the least-squares solution over all pixels
    (so weighted by how far each moves). None when nothing moves (under ~0.03 px per pixel)."""
    import numpy as np

    ga, gm, gb = grey(a), grey(m), grey(b)
    fa, fb = dis.calc(gm, ga, None), dis.calc(gm, gb, None)
    d = fb - fa
    den = float((d * d).sum())
    if den < 1e-3 * d[..., 0].size:
        return None
    return float(np.clip(-(fa * d).sum() / den, 0.0, 1.0))


def timing(folder: Path, n: int, even: float = 0.1, reference: Path | None = None) -> list[dict]:
    """Are the clips' frames evenly spaced in time? The time at which each true middle frame was
    taken (:func:`middle_time`), for every (i, i+1, i+2) of each clip, and:

    * on the quality section's ``n`` evenly spaced triples, ``flow``'s gain over the cross-fade at
      t = 0.5 (what any two-frame interpolator must assume), at the measured time, and at the best
      of t = 0, 0.1, ..., 1 for each triple (0 and 1: the inputs themselves). The gap between the
      first and the others is what uneven frame timing costs, which no interpolator that sees only
      the pair can know;
    * on the *evenly timed* triples (measured time within ``even`` of 0.5, as a model's own frames
      are), the gain of ``flow``, of the plain warp and (given) of the ``reference`` checkout's
      ``flow`` at t = 0.5.

    Returns per clip its name, the measured times of the ``n`` triples, the share of repeats among
    them, and the mean gains."""
    import cv2
    import numpy as np
    import torch

    _import_pack()
    from motioncomic.interpolation.flow import FlowInterpolator

    interp, plain = FlowInterpolator(device="cpu"), PlainWarp()
    run = ours(interp)
    others = {"plain": plain, **({"reference": reference_flow(reference)} if reference else {})}
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    grid = [k / 10 for k in range(1, 10)]
    print("timing of the true middle frames (t measured from the true frame; gain over the cross-fade, dB):")
    rows = []
    for path in sorted(folder.glob("*.webp")):
        frames = read_clip(path)
        picked = set(triples(len(frames), n))
        ts, gains = [], {"t=0.5": [], "measured t": [], "best t": []}
        evens = {"flow": [], **{k: [] for k in others}}
        for i in range(len(frames) - 2):
            a, m, b = frames[i], frames[i + 1], frames[i + 2]
            t = middle_time(a, m, b, dis)
            fade = psnr(0.5 * (a + b), m)
            if t is not None and abs(t - 0.5) <= even:
                evens["flow"].append(psnr(run(a, b), m) - fade)
                for k, fn in others.items():
                    evens[k].append(psnr(fn(a, b), m) - fade)
            if i not in picked:
                continue
            ts.append(0.5 if t is None else t)
            x0, x1 = (torch.from_numpy(x)[None] for x in (a, b))
            outs = interp.pair_times(x0, x1, [0.5, min(max(ts[-1], 0.05), 0.95)] + grid).numpy()
            gains["t=0.5"].append(psnr(outs[0], m) - fade)
            gains["measured t"].append(psnr(outs[1], m) - fade)
            gains["best t"].append(max(psnr(x, m) for x in [a, b, *outs[2:]]) - fade)
        ts = np.array(ts)
        off, repeat = float(np.mean(np.abs(ts - 0.5) > even)), float(np.mean((ts < 0.1) | (ts > 0.9)))
        g = {k: float(np.mean(v)) for k, v in gains.items()}
        e = {k: float(np.mean(v)) if v else None for k, v in evens.items()}
        name = path.stem.removesuffix("-1").removeprefix("video_")[:26]
        rows.append({"name": name, "times": ts.tolist(), "repeats": repeat, "gains": g,
                     "even": {"count": len(evens["flow"]), "of": len(frames) - 2, **e}})
        print(f"  {name:26s} middle time {' '.join(f'{t:.2f}' for t in ts)}; |t-0.5| > {even} in {off:.0%}, "
              f"a repeat (t < 0.1 or > 0.9) in {repeat:.0%}; flow " + ", ".join(f"{k} {v:+.2f}" for k, v in g.items()))
        if evens["flow"]:
            print(f"  {'':26s} evenly timed: {len(evens['flow'])} of {len(frames) - 2} triples, "
                  + ", ".join(f"{k} {v:+.2f}" for k, v in e.items()))
    for label, keep in (("clips", lambda r: True),
                        ("clips where under half the middle frames are repeats", lambda r: r["repeats"] < 0.5)):
        sel = [r["gains"] for r in rows if keep(r)]
        if sel:
            print(f"  mean over the {len(sel)} {label}: flow " + ", ".join(
                f"{k} {np.mean([g[k] for g in sel]):+.2f}" for k in sel[0]))
    sel = [r["even"] for r in rows if r["even"]["count"] >= 5]
    if sel:
        means = {k: float(np.mean([e[k] for e in sel])) for k in evens}
        print(f"  evenly timed triples (|t-0.5| <= {even}), mean over the {len(sel)} clips with at least 5: "
              + ", ".join(f"{k} {v:+.2f}" for k, v in means.items())
              + f" (flow - plain {means['flow'] - means['plain']:+.2f})")
    return rows


# ----------------------------------------------------------------------------- loops
def loops(n: int = 42, h: int = 240, w: int = 360) -> None:
    """A synthetic idle loop (the disc makes one turn in ``n`` frames) at x2 with ``loop`` off and
    open: PSNR against the true frames at the half times, at the seam (between the last frame and
    the first) and elsewhere. Off, the loop jumps at the seam: the best it shows there is the last
    frame, which is compared instead."""
    import numpy as np
    import torch

    _import_pack()
    from motioncomic.interpolation.clip import interpolate

    step = 2 * math.pi / n
    clip = torch.stack(list(frames(n, h, w, step=step)))
    print(f"loops ({n}-frame synthetic turn, {h}x{w}, x2 flow; PSNR against the true frame at the half time):")
    seconds = {}
    outs = {}
    interpolate(clip[:2], 2)  # warm-up (OpenCV's first DIS call), out of the timings
    for loop in ("off", "open"):
        t0 = time.perf_counter()
        outs[loop] = interpolate(clip, 2, loop=loop).frames
        seconds[loop] = time.perf_counter() - t0
    seam_truth = next(frames(1, h, w, step=step, start=n - 0.5)).numpy()
    inner = range(0, n - 1, max(1, n // 6))
    inner_psnr = np.mean([psnr(outs["open"][2 * k + 1].numpy(), next(frames(1, h, w, step=step, start=k + 0.5)).numpy())
                          for k in inner])
    print(f"  loop=open {outs['open'].shape[0]} frames: the seam in-between {psnr(outs['open'][-1].numpy(), seam_truth):.1f} dB, "
          f"the other in-betweens {inner_psnr:.1f} dB; time ratio {seconds['open'] / seconds['off']:.2f} against off")
    print(f"  loop=off  {outs['off'].shape[0]} frames: nothing at the seam (the loop jumps); the last frame there "
          f"{psnr(outs['off'][-1].numpy(), seam_truth):.1f} dB")


# ----------------------------------------------------------------------------- repeated frames
def repeats(folder: Path, n: int = 40) -> None:
    """Each clip's first ``n`` frames at x2 with ``flow``, without and with ``duplicates=1.0``: how
    even the motion plays (coefficient of variation of the frame-to-frame thumbnail difference) and
    the share of still steps (difference below half a level), and the seconds of each run."""
    import numpy as np
    import torch

    _import_pack()
    from motioncomic.interpolation.clip import interpolate
    from motioncomic.interpolation.cuts import DUPLICATE_LEVELS, difference

    print(f"repeated frames (first {n} frames of each clip, x2 flow; without -> with duplicates={DUPLICATE_LEVELS}):")
    for path in sorted(folder.glob("*.webp")):
        clip = torch.from_numpy(np.stack(read_clip(path)[:n]))
        row = []
        for dup in (0.0, DUPLICATE_LEVELS):
            t0 = time.perf_counter()
            out = interpolate(clip, 2, duplicates=dup)
            sec = time.perf_counter() - t0
            d = np.array([difference(out.frames[k], out.frames[k + 1]) for k in range(out.frames.shape[0] - 1)])
            row.append((d.std() / d.mean(), float(np.mean(d < 0.5)), sec))
        (cv0, still0, s0), (cv1, still1, s1) = row
        name = path.stem.removesuffix("-1").removeprefix("video_")[:26]
        print(f"  {name:26s} unevenness {cv0:.3f} -> {cv1:.3f} (ratio {cv1 / cv0:.2f}), still steps {still0:.2f} -> "
              f"{still1:.2f}, time ratio {s1 / s0:.2f}")


# ----------------------------------------------------------------------------- speed
def frames(n: int, h: int, w: int, step: float = 0.15, start: float = 0.0):
    """Yield ``n`` frames ``[H, W, 3]`` float32: textured background, a textured disc on a curve
    (``step`` radians of its elliptical path per frame; the first frame at time ``start``)."""
    import cv2
    import numpy as np
    import torch

    rng = np.random.default_rng(0)
    bg = cv2.resize(rng.random((h // 24 + 2, w // 24 + 2, 3), dtype=np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    tex = cv2.resize(rng.random((h // 40 + 2, h // 40 + 2, 3), dtype=np.float32), (h // 3, h // 3),
                     interpolation=cv2.INTER_NEAREST)
    r = h // 6
    for k in range(n):
        i = start + k
        img = np.clip(0.2 + 0.6 * bg, 0, 1)
        cx = int(w / 2 + 0.3 * w * math.cos(step * i))
        cy = int(h / 2 + 0.25 * h * math.sin(step * i))
        mask = np.zeros((h, w), np.uint8)
        cv2.circle(mask, (cx, cy), r, 1, -1)
        y0, x0 = max(0, cy - r), max(0, cx - r)
        y1, x1 = min(h, cy + r), min(w, cx + r)
        patch = np.zeros_like(img)
        patch[y0:y1, x0:x1] = tex[: y1 - y0, : x1 - x0]
        img = np.where(mask[..., None] > 0, patch, img)
        yield torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32))


class _Wrapped:
    """A numpy method as an Interpolator, so every method runs through the same streaming entry."""

    midpoint_only, multiple, device = False, 1, None

    def __init__(self, fn, name):
        self.fn, self.name = fn, name

    def pair_times(self, a, b, times):
        import torch

        return torch.cat([torch.from_numpy(self.fn(a[0].numpy(), b[0].numpy(), t))[None] for t in times], 0)

    def release(self):
        pass


def speed(h: int, w: int, pairs: int, args) -> dict:
    _import_pack()
    from motioncomic.interpolation.clip import iter_interpolate
    from motioncomic.interpolation.crossfade import CrossfadeInterpolator
    from motioncomic.interpolation.flow import FlowInterpolator
    from motioncomic.interpolation.rife.loader import load_rife

    clip = list(frames(pairs + 1, h, w))
    rife = load_rife(args.rife, device="cpu") if args.rife else random_rife()
    runs = {"crossfade": CrossfadeInterpolator(), "plain": _Wrapped(PlainWarp(), "plain"),
            "flow": FlowInterpolator(device="cpu"), "flow_fast": FlowInterpolator(device="cpu", preset="ultrafast"),
            f"{rife.name}{'' if args.rife else ' (random weights)'}": rife}
    out = {}
    for name, interp in runs.items():
        best = float("inf")
        for _ in range(2 if "rife" not in name else 1):  # best of 2: the machine is shared
            t0 = time.perf_counter()
            n = sum(1 for _ in iter_interpolate(clip, interp, 2))
            best = min(best, time.perf_counter() - t0)
        assert n == 2 * pairs + 1
        out[name] = pairs / best
    return out


# ----------------------------------------------------------------------------- memory
CHILD = """
import sys, json
sys.path.insert(0, sys.argv[1])
import interpolation as B
B._import_pack()
from motioncomic.interpolation.clip import iter_interpolate
from motioncomic.interpolation.flow import FlowInterpolator
n, h, w = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
import torch, cv2, numpy  # imports are not part of the loop's memory
B.reset_peak()
before = B.rss_mb()
count = sum(1 for _ in iter_interpolate(B.frames(n, h, w), FlowInterpolator(device="cpu"), 2, total=n))
print(json.dumps({"frames": n, "out": count, "before_mb": before, "peak_mb": B.peak_mb()}))
"""


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0  # kB
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak() -> None:
    """Reset the peak RSS (VmHWM) so it measures the loop, not the imports (Linux >= 4.0)."""
    Path("/proc/self/clear_refs").write_text("5")


def rss_mb() -> float:
    return _status_mb("VmRSS")


def peak_mb() -> float:
    return _status_mb("VmHWM")


def memory(n: int, h: int, w: int) -> dict:
    res = subprocess.run([sys.executable, "-c", CHILD, str(Path(__file__).parent), str(n), str(h), str(w)],
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _size(s: str) -> tuple[int, int]:
    h, w = s.lower().split("x")
    return int(h), int(w)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=Path, default=CLIPS)
    ap.add_argument("--triples", type=int, default=12, help="(i, i+2) pairs per clip, evenly spaced")
    ap.add_argument("--rife", help="a RIFE 4.6+ file (flownet.pkl / rife4x.pth) for quality and speed")
    ap.add_argument("--sgm", help="an SGM-VFI checkpoint for quality (slow on CPU)")
    ap.add_argument("--reference", type=Path,
                    help="another checkout of the pack whose flow is compared (quality, evenly timed triples)")
    ap.add_argument("--sizes", nargs="*", default=["480x720", "720x1280"])
    ap.add_argument("--pairs", type=int, default=4)
    ap.add_argument("--mem-size", default="480x720")
    ap.add_argument("--mem-frames", nargs=2, type=int, default=[16, 128])
    ap.add_argument("--skip", nargs="*", default=[], choices=["quality", "timing", "repeats", "loops", "speed", "memory"])
    args = ap.parse_args()

    if "quality" not in args.skip:
        if args.clips.is_dir():
            quality(args.clips, args.triples, methods(args))
        else:
            print(f"quality on real clips: SKIPPED, {args.clips} does not exist (the clips live in "
                  "../shared/data/clips beside the checkout; pass --clips DIR)")
    if "timing" not in args.skip and args.clips.is_dir():
        timing(args.clips, args.triples, reference=args.reference)
    if "repeats" not in args.skip and args.clips.is_dir():
        repeats(args.clips)
    if "loops" not in args.skip:
        loops()
    if "speed" not in args.skip:
        for s in args.sizes:
            h, w = _size(s)
            r = speed(h, w, args.pairs, args)
            print(f"speed {h}x{w} (x2, {args.pairs} pairs, synthesised frames/s): "
                  + ", ".join(f"{k} {v:.2f}" for k, v in r.items())
                  + f"; flow time / plain {r['plain'] / r['flow']:.2f}x")
    if "memory" not in args.skip:
        h, w = _size(args.mem_size)
        small, big = (memory(n, h, w) for n in args.mem_frames)
        grow_small = small["peak_mb"] - small["before_mb"]
        grow_big = big["peak_mb"] - big["before_mb"]
        ratio = big["peak_mb"] / small["peak_mb"]
        print(f"memory at {h}x{w} (flow, x2, streamed): {small['frames']} frames -> peak {small['peak_mb']:.0f} MB "
              f"(+{grow_small:.0f} MB over the {small['before_mb']:.0f} MB before the loop); {big['frames']} frames -> "
              f"peak {big['peak_mb']:.0f} MB (+{grow_big:.0f} MB); peak ratio {ratio:.3f} "
              f"({'flat' if ratio <= 1.2 else 'NOT flat'}), growth ratio {grow_big / max(grow_small, 1e-6):.2f}")


if __name__ == "__main__":
    main()
