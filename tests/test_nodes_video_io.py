"""Save Video / Load Video nodes called directly (standalone host), outputs decoded with ffmpeg."""
from __future__ import annotations

import pytest

from motioncomic import host
from motioncomic.errors import Cancelled, MotionComicError
from motioncomic.media import video
from motioncomic.nodes import NODE_CLASS_MAPPINGS as _NODES

MotionComicLoadVideo, MotionComicSaveVideo = _NODES["MotionComicLoadVideo"], _NODES["MotionComicSaveVideo"]


@pytest.fixture
def folders(tmp_path, monkeypatch):
    out, inp = tmp_path / "output", tmp_path / "input"
    inp.mkdir()
    monkeypatch.setenv("MOTIONCOMIC_OUTPUT_DIR", str(out))
    monkeypatch.setenv("MOTIONCOMIC_INPUT_DIR", str(inp))
    return out, inp


def _frames(n=5, h=24, w=40):
    import torch

    g = torch.linspace(0, 1, w).view(1, 1, w, 1).expand(n, h, w, 3).clone()
    return g * torch.linspace(0.3, 1, n).view(n, 1, 1, 1)


def _save(images, **kw):
    args = dict(fps=8.0, filename_prefix="clips/hero", format="mp4", crf=19, quality=90, save_output=True)
    args.update(kw)
    return MotionComicSaveVideo().save(images, **args)


@pytest.mark.parametrize("fmt", ["mp4", "webm", "webp", "gif"])
def test_save_node_writes_decodable_file_with_comfy_naming(folders, fmt):
    out, _ = folders
    res = _save(_frames(), format=fmt)
    ui = res["ui"]
    assert ui["animated"] == (True,)
    assert ui["images"] == [{"filename": f"hero_00001_.{fmt}", "subfolder": "clips", "type": "output"}]
    (path,) = res["result"]
    assert path == f"clips/hero_00001_.{fmt}"  # relative to the output folder: no server path to API clients
    info = video.probe_video(out / path)
    assert info["frames"] == 5 and info["size"] == (40, 24)
    assert info["fps"] == pytest.approx(8.0, abs=0.4)
    res2 = _save(_frames(), format=fmt)  # counter advances, first file untouched
    assert res2["ui"]["images"][0]["filename"] == f"hero_00002_.{fmt}"


def test_save_node_preview_only_goes_to_temp(folders, tmp_path, monkeypatch):
    out, _ = folders
    res = _save(_frames(n=2), save_output=False)
    assert res["ui"]["images"][0]["type"] == "temp"
    assert not out.exists() or not any(out.rglob("*.mp4"))
    assert (host.temp_dir() / res["result"][0]).is_file()


def test_save_node_embeds_prompt_without_api_key(folders):
    key = "sk-" + "Zz9Yy8Xx7Ww6Vv5Uu4"
    prompt = {"1": {"class_type": "MotionComicExpandPrompt", "inputs": {"prompt": "she smiles", "api_key": key}}}
    res = _save(_frames(n=2), prompt=prompt, extra_pnginfo={"workflow": {"nodes": [{"widgets_values": [key]}]}})
    data = open(folders[0] / res["result"][0], "rb").read()
    assert b"she smiles" in data and key.encode() not in data


def test_save_node_checks_its_folder_before_the_graph_runs(folders, tmp_path):
    out, _ = folders
    assert MotionComicSaveVideo.VALIDATE_INPUTS(filename_prefix="clips/ok", save_output=True) is True
    assert "invalid filename_prefix" in MotionComicSaveVideo.VALIDATE_INPUTS(filename_prefix="../../etc/x")
    (out / "blocked").write_text("a file where a folder should be")
    assert "cannot create the output folder" in MotionComicSaveVideo.VALIDATE_INPUTS(filename_prefix="blocked/x")


def test_save_node_bad_inputs(folders, tmp_path, monkeypatch):
    import torch

    with pytest.raises(MotionComicError, match="empty"):
        _save(torch.zeros(0, 8, 8, 3))
    with pytest.raises(MotionComicError, match="filename_prefix"):
        _save(_frames(n=1), filename_prefix="../../etc/x")
    blocker = tmp_path / "file_not_dir"
    blocker.write_text("x")
    monkeypatch.setenv("MOTIONCOMIC_OUTPUT_DIR", str(blocker))
    with pytest.raises(MotionComicError, match="output folder"):
        _save(_frames(n=1))


def test_save_node_cancel_reports_no_output(folders):
    out, _ = folders
    images = _frames(n=30)

    class CancelAfter:
        """An IMAGE-like batch whose iteration triggers a cancel halfway."""

        shape = images.shape

        def __len__(self):
            return len(images)

        def __getitem__(self, i):
            return images[i]

        def __iter__(self):
            for i in range(len(images)):
                if i == 15:
                    host.request_cancel()
                yield images[i]

    host.clear_cancel()
    with pytest.raises(Cancelled):
        _save(CancelAfter())
    assert [p for p in out.rglob("*") if p.is_file()] == []


def test_save_node_does_not_mutate_input(folders):
    images = _frames(n=3)
    before = images.clone()
    _save(images, format="gif")
    assert images.equal(before)


def test_load_node_roundtrip_cap_skip_nth(folders):
    out, inp = folders
    frames = _frames(n=12)
    video.write_video(frames, inp / "sub" / "clip.webm", fps=24)
    spec = MotionComicLoadVideo.INPUT_TYPES()["required"]
    assert "sub/clip.webm" in spec["video"][0] and spec["video"][1]["video_upload"] is True
    assert MotionComicLoadVideo.VALIDATE_INPUTS("sub/clip.webm") is True
    images, fps, count = MotionComicLoadVideo().load("sub/clip.webm")
    assert tuple(images.shape) == (12, 24, 40, 3) and fps == pytest.approx(24.0) and count == 12
    assert float((images - frames).abs().mean()) < 0.05
    images, fps, count = MotionComicLoadVideo().load("sub/clip.webm", frame_load_cap=2, skip_first_frames=1,
                                                     select_every_nth=4)
    assert count == 2 and fps == pytest.approx(6.0)
    assert float((images - frames[[1, 5]]).abs().mean()) < 0.05


def test_load_node_errors(folders):
    _, inp = folders
    assert "not found" in MotionComicLoadVideo.VALIDATE_INPUTS("nope.mp4")
    assert "inside the input folder" in MotionComicLoadVideo.VALIDATE_INPUTS("../x.mp4")
    (inp / "broken.mp4").write_bytes(b"not a video at all")
    with pytest.raises(MotionComicError, match="broken.mp4"):
        MotionComicLoadVideo().load("broken.mp4")
