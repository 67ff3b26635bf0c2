"""The CLI and the ComfyUI API client against a real (small) HTTP + websocket server on 127.0.0.1."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from fake_comfyui import FakeComfyUI
from motioncomic import cli
from motioncomic.errors import MotionComicError
from motioncomic.remote.batch import read_jobs, run_batch
from motioncomic.remote.comfy_api import ComfyClient, ExecutionFailed, WorkflowRejected
from motioncomic.remote.workflow import apply_overrides, load_workflow
from motioncomic.remote.ws import _xor

ROOT = Path(__file__).resolve().parents[1]

GRAPH = {
    "1": {"class_type": "LoadImage", "inputs": {"image": "example.png"}},
    "2": {"class_type": "MotionComicExpandPrompt", "inputs": {"text": "waves", "seed": 3}},
    "3": {"class_type": "MotionComicI2VSampler", "inputs": {"image": ["1", 0], "prompt": ["2", 0], "seed": 7}},
    "4": {"class_type": "MotionComicSaveVideo", "inputs": {"images": ["3", 0], "filename_prefix": "mc/hero"}},
}


@pytest.fixture
def wf(tmp_path):
    p = tmp_path / "wf.json"
    p.write_text(json.dumps(GRAPH))
    return p


@pytest.fixture
def image(tmp_path, characters):
    return next(iter(sorted(characters.glob("*.png"))))


def test_overrides_target_nodes_by_type_and_never_touch_links():
    out, changes = apply_overrides(GRAPH, image="up/hero.png", text="she jumps", seed=42)
    assert out["1"]["inputs"]["image"] == "up/hero.png"
    assert out["2"]["inputs"]["text"] == "she jumps"
    assert out["3"]["inputs"]["prompt"] == ["2", 0]  # linked: untouched
    assert out["2"]["inputs"]["seed"] == 42 and out["3"]["inputs"]["seed"] == 42
    assert GRAPH["2"]["inputs"]["text"] == "waves"  # caller's graph not modified
    assert len(changes) == 4
    with pytest.raises(MotionComicError, match="no MotionComicLoadVideo / LoadVideo node"):
        apply_overrides(GRAPH, video="clip.mp4")


def test_load_workflow_refuses_ui_format_with_advice(tmp_path):
    p = tmp_path / "ui.json"
    p.write_text(json.dumps({"nodes": [], "links": [], "version": 0.4}))
    with pytest.raises(MotionComicError, match="UI-format.*Export \\(API\\)"):
        load_workflow(p)
    p.write_text("{not json")
    with pytest.raises(MotionComicError, match="cannot read"):
        load_workflow(p)


def test_websocket_mask_roundtrip():
    data = bytes(range(256)) * 3
    assert _xor(_xor(data, b"\x01\x02\x03\x04"), b"\x01\x02\x03\x04") == data
    assert _xor(b"\x00\x00\x00\x00\x00", b"abcd") == b"abcda"


def test_submit_end_to_end_with_upload_progress_and_download(tmp_path, wf, image, capsys):
    with FakeComfyUI(tmp_path / "server") as srv:
        rc = cli.main(["submit", str(wf), "--server", srv.url, "--image", str(image), "--prompt", "she waves",
                       "--seed", "5", "-o", str(tmp_path / "out")])
        assert rc == 0
        assert srv.uploads == [image.name]
        sent = srv.prompts[0]
        assert sent["1"]["inputs"]["image"] == image.name and sent["2"]["inputs"]["text"] == "she waves"
        err = capsys.readouterr()
        assert "node 3 (MotionComicI2VSampler)" in err.err and "3/3" in err.err  # progress from the websocket
        (out_file,) = [Path(x) for x in err.out.split()]
        assert out_file.parent == tmp_path / "out" / "clips"
        assert json.loads(out_file.read_text())["3"]["inputs"]["seed"] == 5
        assert not (tmp_path / "out" / "preview.png").exists()  # temp previews are not downloaded


def test_submit_post_only_workflow_with_video(tmp_path, capsys):
    from motioncomic.media.video import write_video
    import numpy as np

    clip = write_video(np.zeros((2, 16, 16, 3), np.float32), tmp_path / "mine.webm", fps=8, progress=False)
    wf = ROOT / "workflows" / "api" / "motioncomic_convert_clip.json"
    with FakeComfyUI(tmp_path / "server") as srv:
        assert cli.main(["-q", "submit", str(wf), "--server", srv.url, "--video", str(clip),
                         "-o", str(tmp_path / "out")]) == 0
        assert srv.uploads == ["mine.webm"]
        assert srv.prompts[0]["1"]["inputs"]["video"] == "mine.webm"
        with pytest.raises(MotionComicError, match="no LoadImage node"):
            apply_overrides(srv.prompts[0], image="x.png")
    assert (tmp_path / "server" / "input" / "mine.webm").read_bytes() == clip.read_bytes()


def test_client_falls_back_to_polling_without_websocket(tmp_path):
    with FakeComfyUI(tmp_path / "s", websocket=False) as srv:
        res = ComfyClient(srv.url).run(GRAPH, tmp_path / "out")
        assert res.status == "ok" and len(res.files) == 1 and res.files[0].is_file()


def test_node_errors_are_reported_readably(tmp_path, wf, capsys):
    bad = dict(GRAPH, **{"9": {"class_type": "NotInstalledNode", "inputs": {}}})
    with FakeComfyUI(tmp_path / "s") as srv:
        with pytest.raises(WorkflowRejected) as ei:
            ComfyClient(srv.url).queue(bad)
        assert "node 9 (NotInstalledNode): Node type not found: NotInstalledNode" in str(ei.value)
        rc = cli.main(["submit", str(wf), "--server", srv.url, "--seed", "-1", "-o", str(tmp_path / "o")])
        err = capsys.readouterr().err
        assert rc == 2 and "input 'seed': Value -1 smaller than min of 0" in err and "Traceback" not in err
        failing = dict(GRAPH, **{"5": {"class_type": "FailingNode", "inputs": {}}})
        with pytest.raises(ExecutionFailed, match=r"node 5 \(FailingNode\) failed: model 'x' not found"):
            ComfyClient(srv.url).run(failing, tmp_path / "o")


def test_unreachable_server_and_argparse_errors(tmp_path, wf, capsys):
    rc = cli.main(["submit", str(wf), "--server", "http://127.0.0.1:9", "-o", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "cannot reach ComfyUI at http://127.0.0.1:9" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as ei:
        cli.main(["animate", "img.png"])
    assert ei.value.code == 2
    with pytest.raises(SystemExit):
        cli.main(["animate", "img.png", "p", "--model", "m", "--framing", "squash", "-o", "x.mp4"])
    assert "invalid choice: 'squash'" in capsys.readouterr().err
    assert cli.main(["submit", "--server", "http://x", "-o", str(tmp_path)]) == 2
    assert "WORKFLOW.json" in capsys.readouterr().err


def test_animate_user_errors_exit_2_without_traceback(tmp_path, capsys):
    assert cli.main(["animate", "nope.png", "waves", "--model", "m", "-o", str(tmp_path / "x.avi")]) == 2
    assert "unsupported video format 'avi'" in capsys.readouterr().err
    assert cli.main(["animate", "nope.png", "waves", "--model", "m", "-o", str(tmp_path / "x.mp4")]) == 2
    assert "image not found: nope.png" in capsys.readouterr().err


def _jobs_csv(tmp_path, image, wf, rows):
    p = tmp_path / "jobs.csv"
    with open(p, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "image", "prompt", "seed", "workflow"])
        for r in rows:
            w.writerow(r)
    return p


def test_batch_spreads_jobs_over_servers_with_retries_and_manifest(tmp_path, wf, image):
    rows = [(f"shot{i}", str(image), f"pose {i}", i, str(wf)) for i in range(6)]
    jobs_csv = _jobs_csv(tmp_path, image, wf, rows)
    out = tmp_path / "out"
    with FakeComfyUI(tmp_path / "a", fail_first=2) as a, FakeComfyUI(tmp_path / "b") as b:
        results = run_batch(read_jobs(jobs_csv), [a.url, b.url, "http://127.0.0.1:9"], out, retries=2,
                            per_server=2)
        assert [r.status for r in results] == ["ok"] * 6
        assert len(a.prompts) + len(b.prompts) == 8  # 6 jobs + 2 retries of a's failures
        assert a.prompts and b.prompts  # both servers got work
        assert sum(r.attempts > 1 for r in results) == 2
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["summary"] == {"ok": 6, "failed": 0, "pending": 0}
        for r in manifest["jobs"]:
            (f,) = r["files"]
            sent = json.loads((out / f).read_text())
            assert f.startswith(r["job"] + "/") and sent["2"]["inputs"]["text"] == r["prompt"]
            assert sent["3"]["inputs"]["seed"] == r["seed"] and sent["1"]["inputs"]["image"].startswith(
                f"motioncomic/{r['job']}/")
            assert r["seconds"] > 0 and r["server"] in (a.url, b.url)
        rows_csv = list(csv.DictReader(open(out / "manifest.csv")))
        assert [r["status"] for r in rows_csv] == ["ok"] * 6
        n_before = len(a.prompts) + len(b.prompts)
        # --resume: nothing left to do
        assert cli.main(["-q", "submit", "--jobs", str(jobs_csv), "--server", a.url, "-o", str(out),
                         "--resume"]) == 0
        assert len(a.prompts) + len(b.prompts) == n_before


def test_batch_failed_jobs_and_bad_csv(tmp_path, wf, image):
    failing = tmp_path / "failing.json"
    failing.write_text(json.dumps(dict(GRAPH, **{"5": {"class_type": "FailingNode", "inputs": {}}})))
    rejected = tmp_path / "rejected.json"
    rejected.write_text(json.dumps({"1": {"class_type": "Missing", "inputs": {}},
                                    "2": {"class_type": "MotionComicExpandPrompt", "inputs": {"text": ""}}}))
    jobs_csv = _jobs_csv(tmp_path, image, wf, [("ok", str(image), "x", 1, str(wf)),
                                               ("boom", str(image), "x", 1, str(failing)),
                                               ("rej", "", "x", "", str(rejected)),
                                               ])
    with FakeComfyUI(tmp_path / "a") as a:
        rc = cli.main(["-q", "submit", "--jobs", str(jobs_csv), "--server", a.url, "-o", str(tmp_path / "o"),
                       "--retries", "1"])
        assert rc == 1
        res = {r["job"]: r for r in json.loads((tmp_path / "o" / "manifest.json").read_text())["jobs"]}
        assert res["ok"]["status"] == "ok"
        assert res["boom"]["status"] == "failed" and res["boom"]["attempts"] == 2
        assert "FailingNode" in res["boom"]["error"]
        assert res["rej"]["status"] == "failed" and res["rej"]["attempts"] == 1  # rejected: not retried
        assert "node 1 (Missing): Node type not found" in res["rej"]["error"]
    bad = _jobs_csv(tmp_path, image, wf, [("a", "missing.png", "x", "one", str(wf)), ("a", "", "", "", "")])
    with pytest.raises(MotionComicError) as ei:
        read_jobs(bad)
    msg = str(ei.value)
    assert "line 2: image not found: missing.png" in msg and "seed 'one'" in msg
    assert "line 3: no workflow" in msg


def test_batch_checks_overrides_before_sending(tmp_path, image):
    post_only = tmp_path / "post.json"
    post_only.write_text(json.dumps({"1": {"class_type": "MotionComicLoadVideo", "inputs": {"video": "a.mp4"}},
                                     "2": {"class_type": "MotionComicSaveVideo", "inputs": {"images": ["1", 0]}}}))
    jobs = read_jobs(_jobs_csv(tmp_path, image, post_only, [("a", str(image), "", 4, str(post_only))]))
    with FakeComfyUI(tmp_path / "s") as srv:
        with pytest.raises(MotionComicError, match=r"job a \(post.json\): cannot set the image"):
            run_batch(jobs, [srv.url], tmp_path / "o")
        assert srv.prompts == [] and srv.uploads == []


def test_batch_all_servers_down_fails_jobs_instead_of_hanging(tmp_path, wf, image):
    jobs = read_jobs(_jobs_csv(tmp_path, image, wf, [("a", str(image), "x", 1, str(wf))]))
    (res,) = run_batch(jobs, ["http://127.0.0.1:9"], tmp_path / "o", per_server=1)
    assert res.status == "failed" and "no ComfyUI server reachable" in res.error


def test_python_dash_m_entry_point(tmp_path):
    """``python -m motioncomic`` works when the pack is importable under its name."""
    link = tmp_path / "motioncomic"
    link.symlink_to(ROOT)
    out = subprocess.run([sys.executable, "-m", "motioncomic", "submit", "--help"], cwd=tmp_path,
                         capture_output=True, text=True)
    assert out.returncode == 0 and "--jobs" in out.stdout
    out = subprocess.run([sys.executable, "-m", "motioncomic", "submit", "x.json", "--server",
                          "http://127.0.0.1:9", "-o", str(tmp_path / "o")], cwd=tmp_path, capture_output=True,
                         text=True)
    assert out.returncode == 2 and out.stderr.startswith("error: workflow file not found")
