"""Opt-in: run every ``workflows/api/*.json`` UNMODIFIED on a real ComfyUI with tiny models.

Needs ``COMFYUI_DIR`` (a ComfyUI checkout) and ``COMFYUI_PYTHON`` (its interpreter, with our
requirements installed). Starts ``main.py --cpu`` on a free port with ``--base-directory`` in a
temp folder: the pack linked into ``custom_nodes/``, tiny models written by every
``tests/tiny_*.py`` ``install_for_workflows(models_dir)`` under the names the workflows use, the
input files the workflows name (character images, a short clip made with ffmpeg, then whatever
each ``tiny_*.py`` ``make_workflow_inputs(input_dir)`` writes for its own stage). Then each API
workflow goes through the same client as ``python -m motioncomic submit`` and its outputs are
decoded with ffmpeg.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from launch import validate_only  # noqa: E402
from workflow_check import check_api, check_ui  # noqa: E402

pytestmark = [
    pytest.mark.comfyui,
    pytest.mark.skipif(not os.environ.get("COMFYUI_DIR"), reason="COMFYUI_DIR not set (opt-in real-ComfyUI suite)"),
]

ROOT = Path(__file__).resolve().parents[2]
API_FILES = sorted((ROOT / "workflows" / "api").glob("*.json"))
UI_FILES = sorted((ROOT / "workflows").glob("*.json"))
CHARACTERS = ROOT / "tests" / "data" / "characters"
VIDEO_EXT = (".mp4", ".webm", ".webp", ".gif", ".mkv", ".mov")
VALIDATE_ONLY, NOT_PROVIDED = validate_only()


def with_unprovided_files(object_info: dict) -> dict:
    """``object_info`` whose core model-file lists also hold the files the suite cannot write tiny
    (``NOT_PROVIDED``), so a validate-only graph is checked for everything else."""
    from dump_core_nodes import FILE_LISTS

    info = json.loads(json.dumps(object_info))
    for node, name in FILE_LISTS:
        spec = info.get(node, {}).get("input", {}).get("required", {}).get(name)
        if spec:
            opts = spec[0] if isinstance(spec[0], list) else spec[1].setdefault("options", [])
            opts.extend(sorted(NOT_PROVIDED - set(opts)))
    return info
#: Workflows whose input clip has a soundtrack that must reach the saved file (core VIDEO path).
KEEPS_SOUND = {"motioncomic_finish_video.json"}


def test_object_info_lists_all_our_nodes(object_info):
    from motioncomic import NODE_CLASS_MAPPINGS

    missing = sorted(set(NODE_CLASS_MAPPINGS) - set(object_info))
    assert missing == []
    for name in NODE_CLASS_MAPPINGS:
        assert object_info[name]["python_module"].startswith("custom_nodes"), name


def test_checked_in_core_definitions_are_current(object_info):
    """tests/data/comfyui/core_nodes.json must match this ComfyUI (refresh: dump_core_nodes.py)."""
    core = json.loads((ROOT / "tests" / "data" / "comfyui" / "core_nodes.json").read_text())
    stale = []
    for name, d in core.items():
        live = object_info.get(name)
        if live is None:
            stale.append(f"{name}: gone")
        elif live["output"] != d["output"] or {s: sorted(v) for s, v in live["input"].items()} != {
                s: sorted(v) for s, v in d["input"].items()}:
            stale.append(f"{name}: inputs/outputs changed")
    assert stale == [], stale


@pytest.mark.parametrize("path", UI_FILES + API_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_workflow_valid_against_live_server(path, object_info):
    data = json.loads(path.read_text())
    info = with_unprovided_files(object_info) if path.name in VALIDATE_ONLY else object_info
    problems = check_ui(data, info) if "nodes" in data else check_api(data, info)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("path", API_FILES, ids=lambda p: p.name)
def test_api_workflow_runs_unmodified(path, server, server_log, tmp_path):
    from motioncomic.media.video import probe_video
    from motioncomic.remote.comfy_api import ComfyClient
    from motioncomic.remote.workflow import load_workflow

    if path.name in VALIDATE_ONLY:
        pytest.skip(f"validated against the live node definitions only: {VALIDATE_ONLY[path.name]} "
                    "(test_core_letterbox.py runs what core takes tiny)")
    url, base = server
    prompt = load_workflow(path)
    events = []
    try:
        result = ComfyClient(url, timeout=120).run(prompt, tmp_path, on_event=events.append, timeout=900)
    except Exception as exc:
        pytest.fail(f"{path.name} failed on the real ComfyUI: {exc}\n--- server log ---\n{server_log()}")
    assert result.files, f"{path.name} produced no output files; outputs: {result.outputs}"
    assert any(e.get("type") == "executing" for e in events)  # progress came over the websocket
    for f in result.files:
        assert f.stat().st_size > 0
        if f.suffix.lower() in VIDEO_EXT:
            info = probe_video(f)
            assert info["frames"] >= 2, (f, info)
            w, h = info["size"]
            assert 8 <= w <= 4096 and 8 <= h <= 4096, (f, info)
            assert 0 < info["fps"] <= 240, (f, info)
            if path.name in KEEPS_SOUND:  # core LoadVideo -> our stages (VIDEO) -> core SaveVideo
                from motioncomic.media.audio import read_audio

                sound = read_audio(f)
                assert sound is not None, f"{f.name} lost the input clip's sound"
                duration = info["frames"] / info["fps"]
                assert abs(sound[0].shape[1] / sound[1] - duration) < 0.25, (f, duration)


def test_unknown_node_is_reported_readably(server):
    from motioncomic.remote.comfy_api import ComfyClient, WorkflowRejected

    with pytest.raises(WorkflowRejected, match="NoSuchNode"):
        ComfyClient(server[0]).queue({"1": {"class_type": "NoSuchNode", "inputs": {}}})


def _overridable_workflow():
    """The first API workflow with a LoadImage, a prompt input of ours and a seed (the I2V graphs)."""
    from motioncomic.remote.workflow import apply_overrides, load_workflow

    for p in API_FILES:
        try:
            apply_overrides(load_workflow(p), image="x.png", text="x", seed=1)
            return p
        except ValueError:
            continue
    return None


def test_cli_submit_uploads_overrides_and_downloads(server, server_log, tmp_path, capsys):
    """``python -m motioncomic submit`` against the real server: upload, overrides, progress, download."""
    from motioncomic import cli
    from motioncomic.media.video import probe_video

    wf = _overridable_workflow()
    if wf is None:
        pytest.skip("no API workflow with LoadImage + prompt + seed")
    url, base = server
    image = sorted(CHARACTERS.glob("*.png"))[-1]
    rc = cli.main(["submit", str(wf), "--server", url, "--image", str(image), "--prompt", "she blinks",
                   "--seed", "11", "-o", str(tmp_path)])
    out = capsys.readouterr()
    assert rc == 0, out.err + server_log()
    assert (base / "input" / image.name).is_file()  # uploaded through /upload/image
    files = [Path(x) for x in out.out.split()]
    assert files and all(f.is_file() for f in files)
    assert any(probe_video(f)["frames"] >= 2 for f in files if f.suffix in VIDEO_EXT)
    assert "override: seed" in out.err and "override: prompt" in out.err


def test_batch_jobs_on_the_real_server(server, tmp_path):
    from motioncomic.remote.batch import read_jobs, run_batch

    wf = _overridable_workflow()
    if wf is None:
        pytest.skip("no API workflow with LoadImage + prompt + seed")
    url, base = server
    chars = sorted(CHARACTERS.glob("*.png"))[:2]
    csv_path = tmp_path / "jobs.csv"
    csv_path.write_text("id,image,prompt,seed,workflow\n" + "".join(
        f"shot{i},{c},she turns her head,{i},{wf}\n" for i, c in enumerate(chars)))
    results = run_batch(read_jobs(csv_path), [url], tmp_path / "renders", per_server=2, timeout=600)
    assert [r.status for r in results] == ["ok"] * len(chars), [r.error for r in results]
    manifest = json.loads((tmp_path / "renders" / "manifest.json").read_text())
    assert manifest["summary"]["ok"] == len(chars)
    for r in manifest["jobs"]:
        assert r["files"] and all((tmp_path / "renders" / f).is_file() for f in r["files"])


def _memory(url):
    import urllib.request

    with urllib.request.urlopen(url + "/motioncomic/memory", timeout=30) as r:
        return json.loads(r.read())["models"]


def test_free_with_unload_models_releases_a_loaded_cogvideox(server, server_log, tmp_path):
    """Our models live in ComfyUI's model management: "Unload models" (POST /free) releases them."""
    import time
    import urllib.request

    from motioncomic.remote.comfy_api import ComfyClient
    from motioncomic.remote.workflow import load_workflow

    url, base = server
    graph = load_workflow(ROOT / "workflows" / "api" / "cogvideox_i2v.json")
    loader = next(n for n in graph.values() if n["class_type"] == "MotionComicLoadCogVideoX")
    loader["inputs"]["offload"] = "none"  # everything stays resident (offload "model" unloads after each use)
    next(n for n in graph.values() if n["class_type"] == "MotionComicImageToVideo")["inputs"]["steps"] = 2
    ComfyClient(url, timeout=120).run(graph, tmp_path, timeout=900)
    loaded = [m for m in _memory(url) if m["loaded"] and "transformer" in m["name"]]
    assert loaded, f"no CogVideoX transformer registered with model management: {_memory(url)}\n{server_log()}"
    req = urllib.request.Request(url + "/free", data=json.dumps({"unload_models": True}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(req, timeout=30).read()
    for _ in range(100):  # the queue applies the flag between prompts
        if not any(m["loaded"] for m in _memory(url) if m["name"] in {x["name"] for x in loaded}):
            break
        time.sleep(0.2)
    still = [m["name"] for m in _memory(url) if m["loaded"] and m["name"] in {x["name"] for x in loaded}]
    assert still == [], f"still loaded after /free: {still}\n{server_log()}"


@pytest.mark.parametrize("query", ["loader=MotionComicLoadCogVideoX&loader.model=/etc/passwd&width=10&height=10",
                                   "loader=MotionComicLoadCogVideoX&loader.model=../../x.bin&width=10&height=10",
                                   "loader=MotionComicLoadCogVideoX&loader.model=CogVideo&width=10&height=10",
                                   "loader=KSampler&width=10&height=10", "width=abc"])
def test_plan_route_answers_bad_requests_with_400(server, query):
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{server[0]}/motioncomic/plan?{query}", timeout=30)
    assert e.value.code == 400
    body = json.loads(e.value.read())
    assert "error" in body and "/etc" not in body["error"] and "Traceback" not in body["error"]
