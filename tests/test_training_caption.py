"""Clip captions: sidecar files, and a vision LLM on a real chat-completions server on 127.0.0.1."""
from __future__ import annotations

import base64
import io
import json
import os
import shutil
import signal

import numpy as np
import pytest
from PIL import Image

import tiny_prompts as tp
from motioncomic import cli
from motioncomic.errors import MotionComicError
from motioncomic.prompts.expand import LLMSettings
from motioncomic.training.caption import Captioner, pick_frames
from motioncomic.training.dataset import read_manifest
from motioncomic.training.prepare import PrepareSettings, prepare_dataset
from synthetic_footage import Shot, write_footage

SMALL = PrepareSettings(frames=9, fps=8.0)


@pytest.fixture(scope="module")
def footage_file(tmp_path_factory):
    # shot 0: one clip, shot 1: two clips
    return write_footage(tmp_path_factory.mktemp("footage") / "ep02.mp4", [Shot(60, 3, 0), Shot(90, 2, 3)])


@pytest.fixture
def video(footage_file, tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    return shutil.copy(footage_file, d / "ep02.mp4")


@pytest.fixture(scope="module")
def server():
    with tp.ChatServer() as srv:
        yield srv


def llm(server, model, **kw):
    kw.setdefault("base_url", server.base_url)
    return LLMSettings(model=model, backoff=0.05, timeout=10, **kw)


def test_the_most_specific_sidecar_wins(video, tmp_path):
    video.with_name("ep02.txt").write_text("A red room.\n")
    video.with_name("ep02.s001.txt").write_text("  A blue card\n slides right.  ")
    video.with_name("ep02.s001-01.txt").write_text("The card leaves the frame.")
    video.with_name("ep02.s000-00.txt").write_text("   \n")  # empty: does not count
    prepare_dataset([video], tmp_path / "ds", SMALL)
    got = [(c.shot, c.caption, c.caption_source) for c in read_manifest(tmp_path / "ds")]
    assert got == [(0, "A red room.", "sidecar"), (1, "A blue card slides right.", "sidecar"),
                   (1, "The card leaves the frame.", "sidecar")]
    assert (tmp_path / "ds" / "prompts.txt").read_text().splitlines() == [c for _, c, _ in got]


def test_vision_llm_gets_frames_of_each_clip(video, tmp_path, server):
    video.with_name("ep02.s001-01.txt").write_text("A hand-written caption.")
    before = len(server.requests)
    prepare_dataset([video], tmp_path / "ds", SMALL, Captioner(llm(server, "normal"), images=3, image_side=64))
    clips = read_manifest(tmp_path / "ds")
    assert [(c.caption, c.caption_source) for c in clips] == [
        (tp.CAPTION, "llm"), (tp.CAPTION, "llm"), ("A hand-written caption.", "sidecar")]
    sent = server.requests[before:]
    assert len(sent) == 2  # the sidecar clip costs no request
    messages = sent[0]["body"]["messages"]
    assert messages[0]["role"] == "system" and "training captions" in messages[0]["content"]
    parts = messages[1]["content"]
    assert parts[0]["type"] == "text" and "frames (numbers 1, 5, 9) of a 9-frame clip" in parts[0]["text"]
    images = [p["image_url"]["url"] for p in parts[1:]]
    assert len(images) == 3 and all(u.startswith("data:image/png;base64,") for u in images)
    first = np.asarray(Image.open(io.BytesIO(base64.b64decode(images[0].split(",", 1)[1]))))
    png = np.asarray(Image.open(clips[0].image_path(tmp_path / "ds")).resize((64, 36), Image.LANCZOS))
    assert first.shape == (36, 64, 3) and np.array_equal(first, png)  # the clip's own first frame
    assert "Authorization" not in sent[0]["headers"]


@pytest.mark.parametrize("model, reason", [("err500", "HTTP 500"), ("chinese", "not in English")])
def test_llm_failure_falls_back_and_says_why(video, tmp_path, server, model, reason):
    cap = Captioner(llm(server, model, retries=1), default="an anime clip")
    prepare_dataset([video], tmp_path / "ds", SMALL, cap)
    clips = read_manifest(tmp_path / "ds")
    assert len(clips) == 3
    assert all(c.caption == "an anime clip" and c.caption_source == "fallback" and reason in c.caption_error
               for c in clips)


def test_no_server_falls_back_quickly(video, tmp_path):
    cap = Captioner(LLMSettings(base_url="http://127.0.0.1:9/v1", model="m", timeout=5))
    prepare_dataset([video], tmp_path / "ds", SMALL, cap)
    clips = read_manifest(tmp_path / "ds")
    assert all(c.caption_source == "fallback" and "refused" in c.caption_error and c.caption == "" for c in clips)


def test_api_key_only_from_a_named_variable(video, tmp_path, server, monkeypatch, capsys):
    server.expected_key = "sk-dataset-test-0123456789abcdef"
    monkeypatch.setenv("MC_TEST_CAPTION_API_KEY", server.expected_key)
    prepare_dataset([video], tmp_path / "ds", SMALL, Captioner(llm(server, "auth", api_key_env="MC_TEST_CAPTION_API_KEY")))
    assert {c.caption_source for c in read_manifest(tmp_path / "ds")} == {"llm"}
    assert server.requests[-1]["headers"]["Authorization"] == f"Bearer {server.expected_key}"
    # the key itself typed where the NAME belongs: refused before anything is written or sent
    before = len(server.requests)
    rc = cli.main(["-q", "prepare-dataset", str(video), "-o", str(tmp_path / "ds2"), "--frames", "9", "--caption",
                   "openai", "--llm-url", server.base_url, "--llm-model", "auth", "--llm-key-env", server.expected_key])
    err = capsys.readouterr().err
    assert rc == 2 and "NAME of an environment variable" in err and server.expected_key not in err
    assert not (tmp_path / "ds2").exists() and len(server.requests) == before
    text = "".join(p.read_text() for p in (tmp_path / "ds").glob("*.json*"))
    assert server.expected_key not in text


def test_the_owners_llm_policy_holds(video, tmp_path, server, monkeypatch, capsys):
    """Key variables other than *_API_KEY / *_TOKEN, credentials in the URL: refused before anything
    is written; a private-network server the owner did not list: the run stops, nothing falls back."""
    monkeypatch.setenv("HOME_SECRET", "x")
    for extra in (["--llm-key-env", "HOME_SECRET"], ["--llm-url", "http://user:pw@127.0.0.1:9/v1"]):
        rc = cli.main(["-q", "prepare-dataset", str(video), "-o", str(tmp_path / "ds"), "--frames", "9",
                       "--caption", "openai", *extra])
        err = capsys.readouterr().err
        assert rc == 2 and ("not allowed" in err or "credentials" in err) and "pw" not in err
        assert not (tmp_path / "ds").exists()
    for name in ("MOTIONCOMIC_LLM_HOSTS", "MOTIONCOMIC_LLM_ALLOW_PRIVATE", "http_proxy", "HTTP_PROXY", "all_proxy",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MOTIONCOMIC_CONFIG", str(tmp_path / "no-config.json"))
    with pytest.raises(MotionComicError, match="private or link-local"):
        prepare_dataset([video], tmp_path / "ds2", SMALL, Captioner(llm(server, "normal", base_url="http://10.255.255.1:9/v1")))
    assert (tmp_path / "ds2" / "manifest.jsonl").read_text() == ""


def test_pick_frames_and_bad_counts():
    assert pick_frames(49, 4) == [0, 16, 32, 48] and pick_frames(9, 1) == [0] and pick_frames(3, 8) == [0, 1, 2]
    with pytest.raises(MotionComicError, match="1..16"):
        Captioner(images=0)


class _CtrlCHandler(tp.ChatHandler):
    """Answers normally, after pressing Ctrl-C on the client (SIGINT to this process)."""

    def do_POST(self) -> None:  # noqa: N802
        os.kill(os.getpid(), signal.SIGINT)
        super().do_POST()


def test_ctrl_c_in_the_cli_leaves_a_consistent_dataset(video, tmp_path, capsys):
    out = tmp_path / "ds"
    with tp.ChatServer() as srv:
        srv.RequestHandlerClass = _CtrlCHandler
        rc = cli.main(["-q", "prepare-dataset", str(video), "-o", str(out), "--frames", "9", "--caption", "openai",
                       "--llm-url", srv.base_url, "--llm-model", "normal"])
    assert rc == 130 and "cancelled" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
    assert (out / "manifest.jsonl").read_text() == "" and list((out / "clips").iterdir()) == []
    rc = cli.main(["-q", "prepare-dataset", str(video), "-o", str(out), "--frames", "9"])  # resume
    assert rc == 0 and [c.caption_source for c in read_manifest(out)] == ["none"] * 3


def test_a_rerun_recaptions_clips_that_fell_back(video, tmp_path, server):
    out = tmp_path / "ds"
    prepare_dataset([video], out, SMALL, Captioner(LLMSettings(base_url="http://127.0.0.1:9/v1", model="m", timeout=5)))
    before = read_manifest(out)
    assert {c.caption_source for c in before} == {"fallback"}
    video.with_name("ep02.s000-00.txt").write_text("A red card crosses the room.")
    report = prepare_dataset([video], out, SMALL, Captioner(llm(server, "normal")))
    after = read_manifest(out)
    assert report.written == [] and report.recaptioned == 3
    assert [(c.caption, c.caption_source, c.caption_error) for c in after] == [
        ("A red card crosses the room.", "sidecar", ""), (tp.CAPTION, "llm", ""), (tp.CAPTION, "llm", "")]
    assert [c.path(out).stat().st_mtime_ns for c in after] == [c.path(out).stat().st_mtime_ns for c in before]
    assert (out / "prompts.txt").read_text().splitlines()[1] == tp.CAPTION


def test_a_rerun_reads_sidecars_only_beside_its_own_videos(video, tmp_path):
    out = tmp_path / "ds"
    prepare_dataset([video], out, SMALL)
    first = read_manifest(out)[0]
    # a line someone else added, whose source points at a text file we must not read
    elsewhere = tmp_path / "private"
    elsewhere.mkdir()
    (elsewhere / "notes.txt").write_text("TOP SECRET")
    for ext in (".mp4", ".png"):
        shutil.copy(out / f"clips/{first.id}{ext}", out / f"clips/foreign{ext}")
    with open(out / "manifest.jsonl", "a") as f:
        f.write(first.to_json().replace(first.id, "foreign").replace(json.dumps(first.source)[1:-1],
                                                                     str(elsewhere / "notes.mp4")) + "\n")
    video.with_name("ep02.txt").write_text("A red card crosses the room.")
    report = prepare_dataset([video], out, SMALL)
    assert report.recaptioned == 3
    clips = {c.id: c for c in read_manifest(out)}
    assert clips["foreign"].caption_source == "none" and clips["foreign"].source == str(elsewhere / "notes.mp4")
    assert "TOP SECRET" not in (out / "prompts.txt").read_text() + (out / "manifest.jsonl").read_text()
