"""Our clip stages on ComfyUI's core VIDEO type (frames + frame rate + audio), and what bad clips get.

The VIDEO values here are the node layer's stand-in (``nodes/_video.ComponentsVideo``, the same
``get_components()`` as ComfyUI's ``VideoFromComponents``); files go through the real ffmpeg.
"""
from __future__ import annotations

import json
import logging
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

import tiny_faces
from api_runner import run_api_graph
from motioncomic.errors import MotionComicError
from motioncomic.media.audio import read_audio
from motioncomic.media.video import read_video
from motioncomic.nodes import NODE_CLASS_MAPPINGS as NODES
from motioncomic.nodes._video import Components, ComponentsVideo
from workflow_check import all_definitions, check_api, check_ui

LEGACY = Path(__file__).parent / "data" / "legacy_workflows"


@pytest.fixture
def folders(tmp_path, monkeypatch):
    monkeypatch.setenv("MOTIONCOMIC_OUTPUT_DIR", str(tmp_path / "output"))
    monkeypatch.setenv("MOTIONCOMIC_INPUT_DIR", str(tmp_path / "input"))
    (tmp_path / "input").mkdir()
    return tmp_path


def _frames(n=6, h=32, w=48):
    return torch.linspace(0, 1, w).view(1, 1, w, 1).expand(n, h, w, 3) * torch.linspace(0.2, 1, n).view(n, 1, 1, 1)


def _audio(seconds, rate=22050):
    samples, rate = tiny_faces.tone(seconds, rate)
    return {"waveform": torch.from_numpy(samples)[None], "sample_rate": rate}


def _video(images, fps=8, audio=None):
    return ComponentsVideo(Components(images, Fraction(fps), audio))


def _interpolate(**kw):
    from motioncomic.interpolation.flow import FlowInterpolator

    args = dict(images=None, fps=8.0, interpolator=FlowInterpolator(), multiplier=2, target_fps=0.0,
                scene_cut_threshold=0.0, video=None)
    return NODES["MotionComicInterpolate"]().interpolate(**{**args, **kw})


def _save(**kw):
    """Save Video called as ComfyUI calls it; returns the saved file's absolute path."""
    from motioncomic import host

    args = dict(images=None, fps=8.0, filename_prefix="clips/v", format="mp4", crf=19, quality=90, save_output=True)
    res = NODES["MotionComicSaveVideo"]().save(**{**args, **kw})
    return host.output_dir() / res["result"][0]  # the node answers relative to the output folder


def test_interpolate_keeps_duration_and_carries_the_audio_object():
    audio = _audio(6 / 8)
    frames, fps, video = _interpolate(video=_video(_frames(6), 8, audio), multiplier=3)
    assert frames.shape[0] == (6 - 1) * 3 + 1 and fps == 24.0
    parts = video.get_components()
    assert parts.audio is audio and parts.frame_rate == Fraction(24) and parts.images is frames
    # the IMAGE + fps path gives the same frames and a silent VIDEO
    same, fps2, silent = _interpolate(images=_frames(6), fps=8.0, multiplier=3)
    assert torch.equal(same, frames) and fps2 == fps and silent.get_components().audio is None


def test_save_video_muxes_the_video_audio_with_real_ffmpeg(folders):
    path = _save(video=_video(_frames(8), 8, _audio(1.0)))
    frames, fps = read_video(path)
    sound, rate = read_audio(path)
    assert frames.shape[0] == 8 and fps == pytest.approx(8.0)
    assert sound.shape[0] == 2 and sound.shape[1] / rate == pytest.approx(1.0, abs=1 / 8)
    assert np.sqrt((sound[:, rate // 4: rate // 2] ** 2).mean()) == pytest.approx(0.5 / np.sqrt(2), rel=0.05)


@pytest.mark.parametrize("seconds, said", [(3.0, "cut at the last frame"), (0.25, "filled with silence")])
def test_audio_longer_or_shorter_than_the_frames_is_fitted_and_said(folders, caplog, seconds, said):
    with caplog.at_level(logging.WARNING, logger="motioncomic.nodes.save_video"):
        path = _save(images=_frames(8), fps=8.0, audio=_audio(seconds))
    assert said in caplog.text and f"audio is {seconds:.2f} s, the frames 1.00 s" in caplog.text
    sound, rate = read_audio(path)
    assert sound.shape[1] / rate == pytest.approx(1.0, abs=1 / 8)  # the file lasts as long as the frames
    if seconds < 1:  # silence after the tone ends
        assert np.abs(sound[:, int(0.5 * rate):int(0.9 * rate)]).max() < 0.02
        assert np.abs(sound[:, int(0.05 * rate):int(0.2 * rate)]).max() > 0.3


def test_formats_without_audio_save_the_frames_and_say_the_sound_was_left_out(folders, caplog):
    with caplog.at_level(logging.WARNING, logger="motioncomic.nodes.save_video"):
        path = _save(video=_video(_frames(4), 8, _audio(0.5)), format="gif")
    assert "gif cannot hold audio" in caplog.text and "mp4 or webm" in caplog.text
    assert read_video(path)[0].shape[0] == 4


def test_video_with_no_frames_is_refused_by_every_stage(folders):
    empty = _video(torch.zeros(0, 3, 0, 0))  # what core LoadVideo gives for a file without frames
    with pytest.raises(MotionComicError, match="Interpolate: the video has no frames"):
        _interpolate(video=empty)
    with pytest.raises(MotionComicError, match="Save Video: the video has no frames"):
        _save(video=empty)
    with pytest.raises(MotionComicError, match="Face Restore: the video has no frames"):
        NODES["MotionComicFaceRestore"]().restore(None, None, 1.0, 1.0, 0.7, 0.3, 0, 0.5, "all", True, 5, 2.0, 0.0,
                                                   video=empty)
    assert not list((folders / "output").rglob("*.mp4"))


def test_video_whose_frames_differ_in_size_names_both_sizes():
    mixed = _video([torch.rand(32, 48, 3), torch.rand(32, 48, 3), torch.rand(24, 40, 3)])
    with pytest.raises(MotionComicError, match=r"frames differ in size \(frame 0 is 48x32, frame 2 is 40x24\)"):
        _interpolate(video=mixed)
    same = _video([torch.rand(32, 48, 3)] * 3)  # one-by-one frames of one size are fine
    assert _interpolate(video=same)[0].shape == (5, 32, 48, 3)


def test_clip_inputs_say_what_to_connect():
    with pytest.raises(MotionComicError, match="connect either 'images' or 'video', not both"):
        _interpolate(images=_frames(3), video=_video(_frames(3)))
    with pytest.raises(MotionComicError, match="connect the clip to 'images' .* or to 'video'"):
        _interpolate()
    with pytest.raises(MotionComicError, match="must be a ComfyUI VIDEO, got str"):
        _interpolate(video="clip.mp4")
    with pytest.raises(MotionComicError, match="frame rate 0 is not usable"):
        _interpolate(video=_video(_frames(3), 0))


@pytest.mark.parametrize("audio, said", [
    ({"waveform": torch.full((1, 2, 100), float("nan")), "sample_rate": 44100}, "NaN"),
    ({"waveform": torch.zeros(1, 2, 100), "sample_rate": 7}, "sample rate 7 Hz"),
    ({"waveform": torch.zeros(1, 12, 100), "sample_rate": 44100}, "1..8 channels"),
    ({"samples": [0.0]}, "expected ComfyUI AUDIO"),
])
def test_malformed_audio_is_refused_before_anything_is_written(folders, audio, said):
    with pytest.raises(MotionComicError, match=said):
        _interpolate(video=_video(_frames(3), 8, audio))
    with pytest.raises(MotionComicError, match=said):
        _save(images=_frames(3), audio=audio)
    assert not list((folders / "output").rglob("*.mp4"))


def test_workflow_saved_with_the_legacy_definitions_still_loads_and_runs(folders, models_dir):
    from motioncomic import host

    """A graph saved before the schema move and the VIDEO inputs (committed copy) validates against
    today's definitions and runs unmodified: same node ids, input names, widget values, link slots."""
    defs = all_definitions()
    ui = json.loads((LEGACY / "motioncomic_finish_clip.json").read_text())
    api = json.loads((LEGACY / "motioncomic_finish_clip.api.json").read_text())
    assert check_ui(ui, defs) == [] and check_api(api, defs) == []
    # the old graph has no 'video' sockets and Face Restore has no fps widget value
    restore = next(n for n in ui["nodes"] if n["type"] == "MotionComicFaceRestore")
    assert "video" not in {i["name"] for i in restore["inputs"]} and len(restore["widgets_values"]) == 12
    tiny_faces.install_for_workflows(models_dir)
    tiny_faces.make_workflow_inputs(folders / "input")
    out = run_api_graph(api)
    clip, fps, count = out["2"]
    interp, new_fps, _video_out = out["6"]
    assert interp.shape[0] == (count - 1) * 3 + 1 and new_fps == pytest.approx(fps * 3)
    assert read_video(host.output_dir() / out["7"][0])[0].shape[0] == interp.shape[0]
