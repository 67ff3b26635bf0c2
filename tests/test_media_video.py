"""Video writing and reading through the real ffmpeg of imageio-ffmpeg (no mocks)."""
from __future__ import annotations

import json
import subprocess
import threading
import time

import numpy as np
import pytest

from motioncomic import host
from motioncomic.errors import Cancelled, MotionComicError
from motioncomic.media import video
from motioncomic.media.metadata import scrub_secrets


def _clip(n=9, h=32, w=48, seed=0):
    """A moving gradient: decodable colours, not noise (so lossy codecs stay close)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    frames = []
    for t in range(n):
        r = (xx + 3 * t) / (w + 3 * n)
        g = yy / h
        b = np.full_like(r, 0.25 + 0.5 * t / max(n - 1, 1))
        frames.append(np.stack([r, g, b], -1))
    return np.stack(frames).astype(np.float32)


@pytest.mark.parametrize("fmt,tol", [("mp4", 0.06), ("webm", 0.06), ("webp", 0.08), ("gif", 0.12)])
def test_roundtrip_frame_count_size_fps_and_content(tmp_path, fmt, tol):
    frames = _clip(n=9, h=32, w=48)
    path = video.write_video(frames, tmp_path / f"clip.{fmt}", fps=12.0)
    assert path == tmp_path / f"clip.{fmt}" and path.stat().st_size > 0
    back, fps = video.read_video(path)
    assert back.shape == (9, 32, 48, 3) and back.dtype == np.float32
    # gif stores delays in 1/100 s: 12 fps becomes 8 cs = 12.5 fps
    assert fps == pytest.approx(12.0, abs=0.6 if fmt == "gif" else 0.01)
    assert float(np.abs(back - frames).mean()) < tol
    assert [p.name for p in tmp_path.iterdir()] == [f"clip.{fmt}"]  # no temp files left behind


@pytest.mark.parametrize("fmt", ["mp4", "webm"])
def test_odd_size_is_padded_to_even_for_yuv420(tmp_path, fmt):
    frames = _clip(n=3, h=33, w=47)
    back, _ = video.read_video(video.write_video(frames, tmp_path / f"odd.{fmt}", fps=8))
    assert back.shape == (3, 34, 48, 3)
    # the padded row/column repeats the edge, so the original area is intact
    assert float(np.abs(back[:, :33, :47] - frames).mean()) < 0.06
    assert float(np.abs(back[:, 33, :47] - back[:, 32, :47]).mean()) < 0.06


@pytest.mark.parametrize("fmt", ["webp", "gif"])
def test_odd_size_kept_exactly_for_webp_gif(tmp_path, fmt):
    back, _ = video.read_video(video.write_video(_clip(n=2, h=33, w=47), tmp_path / f"odd.{fmt}", fps=8))
    assert back.shape == (2, 33, 47, 3)


def test_accepts_torch_uint8_grey_and_rgba(tmp_path):
    import torch

    t = torch.from_numpy(_clip(n=2)).clone()
    rgba = np.concatenate([_clip(n=2), np.ones((2, 32, 48, 1), np.float32)], -1)
    grey = (_clip(n=2)[..., 0] * 255).astype(np.uint8)
    for i, frames in enumerate([t, rgba, list(grey)]):
        back, _ = video.read_video(video.write_video(frames, tmp_path / f"{i}.mp4", fps=8))
        assert back.shape == (2, 32, 48, 3)
    assert torch.equal(t, torch.from_numpy(_clip(n=2)))  # input not mutated


def test_read_cap_skip_every_nth(tmp_path):
    path = video.write_video(_clip(n=12), tmp_path / "c.mp4", fps=24)
    frames, fps = video.read_video(path, skip_first=2, every_nth=3, max_frames=3)
    assert frames.shape[0] == 3 and fps == pytest.approx(8.0)
    full, _ = video.read_video(path)
    assert np.allclose(frames, full[[2, 5, 8]])
    with pytest.raises(MotionComicError, match="no frames"):
        video.read_video(path, skip_first=50)


def test_metadata_written_without_secrets(tmp_path):
    key = "sk-" + "a1B2c3D4e5F6g7H8i9J0"
    graph = {"3": {"class_type": "MotionComicExpandPrompt", "inputs": {"prompt": "she waves", "api_key": key}}}
    workflow = {"nodes": [{"type": "MotionComicExpandPrompt", "widgets_values": ["she waves", key]}]}
    path = video.write_video(_clip(n=2), tmp_path / "m.mp4", fps=8,
                             metadata={"prompt": graph, "workflow": workflow, "openai_api_key": key,
                                       "comment": "line1\nkey=value; #x"})
    raw = path.read_bytes()
    assert key.encode() not in raw and b"openai_api_key" not in raw
    out = subprocess.run([video.ffmpeg_exe(), "-hide_banner", "-i", str(path), "-f", "ffmetadata", "-"],
                         capture_output=True, text=True)
    assert "she waves" in out.stdout and "MotionComicExpandPrompt" in out.stdout
    assert "line1" in out.stdout and key not in out.stdout
    cleaned = scrub_secrets({"prompt": graph})
    assert json.loads(cleaned["prompt"])["3"]["inputs"]["api_key"] == "<redacted>"
    assert graph["3"]["inputs"]["api_key"] == key  # caller's dict untouched
    assert scrub_secrets({"max_tokens": "250", "auth": "Bearer abcdefghijkl", "api_key_env": "OPENAI_API_KEY",
                          "base_url": "https://bob:hunter2@llm.example/v1"}) == {
        "max_tokens": "250", "auth": "<redacted>", "api_key_env": "OPENAI_API_KEY",
        "base_url": "https://<redacted>@llm.example/v1"}


def test_unwritable_output_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("x")
    with pytest.raises(MotionComicError, match="output folder"):
        video.write_video(_clip(n=1), blocker / "sub" / "c.mp4", fps=8)


def test_bad_format_fps_and_empty_input(tmp_path):
    with pytest.raises(MotionComicError, match="mp4, webm, webp, gif"):
        video.write_video(_clip(n=1), tmp_path / "c.avi", fps=8)
    with pytest.raises(MotionComicError, match="fps"):
        video.write_video(_clip(n=1), tmp_path / "c.mp4", fps=0)
    with pytest.raises(MotionComicError, match="no frames"):
        video.write_video([], tmp_path / "c.mp4", fps=8)
    with pytest.raises(MotionComicError, match="same size"):
        video.write_video([_clip(n=1)[0], _clip(n=1, h=16)[0]], tmp_path / "c.mp4", fps=8)
    assert list(tmp_path.iterdir()) == []


def test_cancel_midway_removes_partial_file(tmp_path):
    frames = _clip(n=40)
    seen = []

    def gen():
        for i, f in enumerate(frames):
            if i == 20:
                for _ in range(100):  # ffmpeg creates its output once the encoder has frames
                    if any(p.name.startswith(".c.partial") for p in tmp_path.iterdir()):
                        break
                    time.sleep(0.05)
                assert any(p.name.startswith(".c.partial") for p in tmp_path.iterdir())
                seen.append(i)
                host.request_cancel()
            yield f

    host.clear_cancel()
    with pytest.raises(Cancelled):
        video.write_video(gen(), tmp_path / "c.mp4", fps=8)
    assert seen == [20]
    assert list(tmp_path.iterdir()) == []


def test_error_in_frame_source_removes_partial_file(tmp_path):
    def gen():
        yield _clip(n=1)[0]
        raise RuntimeError("sampler exploded")

    with pytest.raises(RuntimeError, match="exploded"):
        video.write_video(gen(), tmp_path / "c.webm", fps=8)
    assert list(tmp_path.iterdir()) == []


def test_parallel_writers_do_not_collide(tmp_path):
    errors = []

    def run(i):
        try:
            video.write_video(_clip(n=3, seed=i), tmp_path / f"p{i}.webp", fps=8)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    ts = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert errors == [] and sorted(p.name for p in tmp_path.iterdir()) == ["p0.webp", "p1.webp", "p2.webp"]


def test_read_video_refuses_a_clip_that_would_not_fit(tmp_path, monkeypatch):
    """A 4K 10-minute clip with no frame cap: refused from its header, naming the cap to set."""
    from motioncomic.media import video as V

    clip = tmp_path / "clip.mp4"
    V.write_video(np.zeros((24, 64, 96, 3), np.float32), clip, fps=24)
    monkeypatch.setattr(V, "available_memory", lambda: 2 * 24 * 64 * 96 * 3 * 4 - 1)  # room for ~23 frames
    with pytest.raises(MotionComicError, match=r"about 24 frames of 96x64.*frame cap .* at most 23"):
        V.read_video(clip)
    frames, fps = V.read_video(clip, max_frames=10)  # the cap the message names works
    assert frames.shape == (10, 64, 96, 3) and frames.dtype == np.float32
    with pytest.raises(MotionComicError, match=r"about 36000 frames of 3840x2160"):
        V.check_fits(36000, 3840, 2160, "about 10 minutes of 4K")  # what a 4K 10-minute header gives
