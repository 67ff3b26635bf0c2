"""Video I/O and API-client figures: encode speed per format, memory while streaming a long clip,
decode speed, and the client's per-job overhead against a local ComfyUI-like server.

    OMP_NUM_THREADS=1 python benchmarks/video_io.py [--frames 49] [--size 480x720]

Run from the repository root. Prints one line per figure.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _pack import import_pack as _import_pack
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def _frames(n, h, w):
    """A slow pan over a real character image (flat anime colours, like the clips we save)."""
    import numpy as np
    from PIL import Image

    src = next(iter(sorted((ROOT.parent / "shared" / "data" / "characters").glob("*.png"))))
    im = Image.open(src).convert("RGB").resize((w + 2 * n, h + 40))
    a = np.asarray(im, dtype=np.float32) / 255.0
    for t in range(n):
        yield a[t % 40: t % 40 + h, 2 * t: 2 * t + w]


STREAM_CHILD = """
import resource, sys, importlib.util
spec = importlib.util.spec_from_file_location("motioncomic", sys.argv[1] + "/__init__.py",
                                              submodule_search_locations=[sys.argv[1]])
m = importlib.util.module_from_spec(spec); sys.modules["motioncomic"] = m; spec.loader.exec_module(m)
import numpy as np
from motioncomic.media.video import write_video
n, h, w = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
base = np.random.RandomState(0).rand(h, w, 3).astype(np.float32)
def gen():
    for t in range(n):
        yield np.roll(base, t, axis=1)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
write_video(gen(), sys.argv[2], fps=24, progress=False)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) * 1024, after * 1024)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=49)
    ap.add_argument("--size", default="480x720", help="HxW")
    ap.add_argument("--stream-frames", type=int, default=240)
    ap.add_argument("--jobs", type=int, default=20)
    args = ap.parse_args()
    h, w = map(int, args.size.split("x"))
    _import_pack()
    import numpy as np

    from motioncomic.media.video import probe_video, read_video, write_video

    frames = np.stack(list(_frames(args.frames, h, w)))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for fmt in ("mp4", "webm", "webp", "gif"):
            t0 = time.perf_counter()
            p = write_video(frames, tmp / f"c.{fmt}", fps=24, progress=False)
            dt = time.perf_counter() - t0
            t0 = time.perf_counter()
            back, _ = read_video(p)
            rt = time.perf_counter() - t0
            err = float(np.abs(back[:, :h, :w] - frames).mean())
            print(f"encode {fmt:4s} {args.frames} frames {w}x{h}: {dt:6.2f} s ({args.frames / dt:6.1f} fps), "
                  f"{p.stat().st_size / 1024:8.0f} KiB; decode {rt:5.2f} s ({args.frames / rt:6.1f} fps); "
                  f"mean abs error {err:.4f}")
        # streaming: peak memory growth while writing a long clip frame by frame
        out = tmp / "long.mp4"
        res = subprocess.run([sys.executable, "-c", STREAM_CHILD, str(ROOT), str(out), str(args.stream_frames),
                              str(h), str(w)], capture_output=True, text=True, check=True)
        grown, peak = map(int, res.stdout.split())
        clip = args.stream_frames * h * w * 3 * 4
        print(f"stream {args.stream_frames} frames {w}x{h} to mp4 from a generator: whole-process peak RSS "
              f"{peak / 2**20:.0f} MiB (growth while encoding {grown / 2**20:.1f} MiB) for a clip of "
              f"{clip / 2**20:.0f} MiB as float32; {probe_video(out)['frames']} frames written")

        # API client overhead per job (upload, queue, websocket, history, download) on 127.0.0.1
        from fake_comfyui import FakeComfyUI
        from motioncomic.remote.batch import Job, run_batch

        wf = tmp / "wf.json"
        wf.write_text(json.dumps({
            "1": {"class_type": "LoadImage", "inputs": {"image": "x.png"}},
            "2": {"class_type": "MotionComicSaveVideo", "inputs": {"images": ["1", 0], "filename_prefix": "b"}}}))
        img = next((ROOT.parent / "shared" / "data" / "characters").glob("*.png"))
        jobs = [Job(f"j{i}", wf, img) for i in range(args.jobs)]
        with FakeComfyUI(tmp / "srv", steps=1) as a, FakeComfyUI(tmp / "srv2", steps=1) as b:
            t0 = time.perf_counter()
            res = run_batch(jobs, [a.url, b.url], tmp / "out", per_server=2)
            dt = time.perf_counter() - t0
        ok = sum(r.status == "ok" for r in res)
        print(f"batch {args.jobs} jobs on 2 local servers (server work ~0): {dt:.2f} s, "
              f"{dt / args.jobs * 1000:.0f} ms client overhead per job, {ok}/{args.jobs} ok")


if __name__ == "__main__":
    main()
