"""The flagship graphs: committed files match their source, and each runs end to end in-process
with tiny models (the real-ComfyUI suite runs the same API files on a real server)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import flagship_graphs
import tiny_cogvideox
import tiny_faces
import tiny_interpolation
import tiny_mimicmotion
import tiny_opensora
import tiny_poses
import tiny_wan
from api_runner import run_api_graph
from motioncomic import host
from workflow_check import all_definitions, check_api, check_ui

ROOT = Path(__file__).resolve().parents[1]
NAMES = list(flagship_graphs.graphs())


@pytest.mark.parametrize("name", NAMES)
def test_committed_files_match_the_source_and_validate(name):
    ui_text, api_text = flagship_graphs.render(name)
    ui_file, api_file = ROOT / "workflows" / f"{name}.json", ROOT / "workflows" / "api" / f"{name}.json"
    assert ui_file.read_text(encoding="utf-8") == ui_text, "run: python tests/flagship_graphs.py"
    assert api_file.read_text(encoding="utf-8") == api_text, "run: python tests/flagship_graphs.py"
    assert (ROOT / "workflows" / f"{name}.jpg").is_file(), "thumbnail missing"
    defs = all_definitions()
    assert check_api(json.loads(api_text), defs) == []
    ui = json.loads(ui_text)
    assert check_ui(ui, defs) == []
    assert any(n["type"] == "MarkdownNote" for n in ui["nodes"]), "the graph explains its settings"
    used = {n["class_type"] for n in json.loads(api_text).values()}
    assert used <= set(defs), "only our nodes and ComfyUI core nodes"


@pytest.fixture
def studio(models_dir, tmp_path, monkeypatch, characters):
    """A models dir with every tiny model the flagships name, and their input files."""
    for mod in (tiny_cogvideox, tiny_opensora, tiny_wan, tiny_faces, tiny_interpolation, tiny_poses, tiny_mimicmotion):
        mod.install_for_workflows(models_dir)
    inputs = tmp_path / "input"
    monkeypatch.setenv("MOTIONCOMIC_INPUT_DIR", str(inputs))
    monkeypatch.setenv("MOTIONCOMIC_OUTPUT_DIR", str(tmp_path / "output"))
    tiny_faces.make_workflow_inputs(inputs, n=6)
    tiny_poses.make_workflow_inputs(inputs, n=8)
    shutil.copy(characters / flagship_graphs.CHARACTER, inputs / flagship_graphs.CHARACTER)
    return tmp_path


def _run(name: str, overrides: dict | None = None) -> tuple[dict, dict]:
    api = flagship_graphs.graphs()[name][0]
    return api, run_api_graph(api, overrides)


def test_cogvideox_flagship_runs_end_to_end(studio):
    from motioncomic.media.video import read_video

    api, out = _run("motioncomic_cogvideox_anime", {"4": {"frames": 9, "steps": 2}})
    prompt, status = out["3"]
    # no LLM server here: the rule-based caption, fitted to the (tiny) model's 16-token budget
    assert prompt.strip() and status.startswith("fallback") and "16" in status
    frames, fps, report, _video = out["4"]
    assert fps == 8.0 and frames.shape[0] == 9
    src = out["1"][0]
    # letterboxed then cropped: the clip keeps the character's aspect (to the rounding pixel)
    assert abs(frames.shape[2] / frames.shape[1] - src.shape[2] / src.shape[1]) < 2 / frames.shape[1]
    interp, new_fps, _video = out["8"]
    assert interp.shape[0] == (9 - 1) * 3 + 1 and new_fps == 24.0
    saved, back_fps = read_video(host.output_dir() / out["9"][0])
    assert saved.shape[0] == interp.shape[0] and back_fps == pytest.approx(24.0)


def test_opensora_flagship_runs_end_to_end(studio):
    api, out = _run("motioncomic_opensora_anime",
                    {"4": {"resolution": "144p"}, "5": {"frames": 17, "steps": 2}})
    frames, fps, _report, _video = out["5"]
    assert frames.shape[0] == 17 and fps == 24.0
    assert frames.shape[1] > frames.shape[2]  # the tall character stays tall
    interp, new_fps, _video = out["9"]
    assert interp.shape[0] == 33 and new_fps == 48.0
    assert (host.output_dir() / out["10"][0]).is_file()


def test_wan_flagship_runs_end_to_end(studio):
    api, out = _run("motioncomic_wan_anime", {"4": {"frames": 9, "steps": 2, "resolution": 64}})
    prompt, status = out["3"]
    assert prompt.strip() and status.startswith("fallback") and "/512" in status  # umT5 budget, measured
    frames, fps, report, _video = out["4"]
    assert fps == 24.0 and frames.shape[0] == 9
    src = out["1"][0]
    # the frame of the area nearest the tall character's aspect, cropped back: the character keeps its shape
    assert abs(frames.shape[2] / frames.shape[1] - src.shape[2] / src.shape[1]) < 2 / frames.shape[2]
    assert "Wan ti2v-5b" in report and "framing pad" in report
    interp, new_fps, _video = out["8"]
    assert interp.shape[0] == (9 - 1) * 2 + 1 and new_fps == 48.0
    from motioncomic.media.video import read_video

    saved, back_fps = read_video(host.output_dir() / out["9"][0])
    assert saved.shape[0] == interp.shape[0] and back_fps == pytest.approx(48.0)


def test_finish_clip_flagship_runs_end_to_end(studio):
    from motioncomic.media.video import read_video

    api, out = _run("motioncomic_finish_clip")
    clip, fps, count = out["2"]
    restored, _debug, _video = out["4"]
    assert restored.shape == clip.shape and not (restored == clip).all()  # the face was restored
    interp, new_fps, _video = out["6"]
    assert interp.shape[0] == (count - 1) * 3 + 1 and new_fps == pytest.approx(fps * 3)
    saved, _ = read_video(host.output_dir() / out["7"][0])
    assert saved.shape[0] == interp.shape[0]


def test_pose_retarget_flagship_runs_end_to_end(studio):
    from motioncomic.media.video import read_video

    api, out = _run("motioncomic_pose_retarget")
    clip, fps, count = out["2"]
    poses, extracted = out["4"]
    assert len(poses) == count == 8 and poses.found.all() and tuple(extracted.shape) == tuple(clip.shape)
    moved, pose_images, ref_pose = out["5"]
    ref = out["1"][0]
    assert moved.size == tuple(ref.shape[1:3]) and tuple(pose_images.shape[1:3]) == tuple(ref.shape[1:3])
    assert float(ref_pose.max()) > 0.5  # the character's own pose was found and drawn
    saved, back_fps = read_video(host.output_dir() / out["7"][0])
    assert saved.shape[0] == count and back_fps == pytest.approx(fps)
def test_core_video_flagship_keeps_the_sound_and_the_duration(studio):
    """Core LoadVideo -> Face Restore (VIDEO) -> Interpolate (VIDEO) -> core SaveVideo: the restored,
    interpolated frames at 3x the rate, and the source's soundtrack, unchanged in length."""
    import numpy as np

    from motioncomic.media.audio import read_audio
    from motioncomic.media.video import read_video

    api, out = _run("motioncomic_finish_video")
    source = out["2"][0].get_components()
    n, src_fps = source.images.shape[0], float(source.frame_rate)
    restored, _debug, restored_video = out["4"]
    assert not (restored == source.images).all()  # the face was restored
    parts = restored_video.get_components()
    assert parts.audio is source.audio and float(parts.frame_rate) == src_fps  # carried, not copied
    interp, new_fps, video = out["6"]
    assert interp.shape[0] == (n - 1) * 3 + 1 and new_fps == pytest.approx(src_fps * 3)
    assert video.get_components().audio is source.audio
    saved = Path(out["7"][0])
    frames, fps = read_video(saved)
    assert frames.shape[0] == interp.shape[0] and fps == pytest.approx(src_fps * 3)
    sound, rate = read_audio(saved)
    want, _ = tiny_faces.tone(n / src_fps)
    # the file lasts as long as its frames; the tone survives AAC twice (level within 5 %)
    assert sound.shape[1] / rate == pytest.approx(frames.shape[0] / fps, abs=1.5 / fps)
    mid = slice(rate // 4, rate // 2)
    assert np.sqrt((sound[:, mid] ** 2).mean(1)) == pytest.approx(np.sqrt((want[:, mid] ** 2).mean(1)), rel=0.05)


def test_pose_dance_flagship_runs_end_to_end(studio):
    """Character + dance clip -> poses -> retarget -> MimicMotion -> face restore -> interpolate -> save."""
    from motioncomic.media.video import read_video

    api, out = _run("motioncomic_pose_dance", {"7": {"resolution": 64, "steps": 2}})
    clip, fps, count = out["2"]
    frames, out_fps = out["7"][0], out["7"][1]
    assert frames.shape[0] == count and out_fps == pytest.approx(fps)  # the dance's frame rate is kept
    ref = out["1"][0]
    assert abs(frames.shape[2] / frames.shape[1] - ref.shape[2] / ref.shape[1]) < 0.05  # cropped back: not stretched
    saved, back_fps = read_video(host.output_dir() / out["12"][0])
    assert saved.shape[0] == (count - 1) * 2 + 1 and back_fps == pytest.approx(fps * 2)
