"""``python -m motioncomic animate`` end to end with a tiny CogVideoX (same code path as the nodes)."""
from __future__ import annotations

import os
import signal
import threading

import pytest

from motioncomic import cli
from motioncomic.media.video import probe_video


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    import tiny_cogvideox

    d = tmp_path_factory.mktemp("models")
    tiny_cogvideox.install_for_workflows(d)
    return d, tiny_cogvideox.WORKFLOW_MODEL


def test_animate_writes_the_clip(tiny_models, characters, tmp_path, capsys):
    models, name = tiny_models
    out = tmp_path / "clip.webm"
    rc = cli.main(["animate", str(characters / "fairy_girl.png"), "she waves", "--model", name, "--models-dir",
                   str(models), "--frames", "9", "--steps", "2", "--seed", "3", "-o", str(out)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert captured.out.strip() == str(out)
    info = probe_video(out)
    assert info["frames"] == 9 and info["fps"] == pytest.approx(8.0)
    assert "CogVideoX [" in captured.err and "framing pad" in captured.err  # progress bar + report


def test_animate_expands_a_chinese_prompt_first(tiny_models, characters, tmp_path, capsys):
    """--expand as the Expand Prompt node: no LLM server listens on this port, so the rules expand
    '她挥手' within the model's own (tiny, 16-token) budget and the status says so."""
    models, name = tiny_models
    out = tmp_path / "clip.mp4"
    rc = cli.main(["animate", str(characters / "fairy_girl.png"), "她挥手", "--model", name, "--models-dir",
                   str(models), "--frames", "9", "--steps", "1", "--expand", "openai", "--llm-url",
                   "http://127.0.0.1:9/v1", "--action", "wave", "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 0, err
    line = next(ln for ln in err.splitlines() if "prompt (" in ln)
    assert "fallback" in line and "16" in line
    assert probe_video(out)["frames"] == 9


def test_animate_reports_invalid_frames_and_missing_model(tiny_models, characters, tmp_path, capsys):
    models, name = tiny_models
    img = str(characters / "fairy_girl.png")
    rc = cli.main(["animate", img, "waves", "--model", name, "--models-dir", str(models), "--frames", "10",
                   "--steps", "1", "-o", str(tmp_path / "x.mp4")])
    err = capsys.readouterr().err
    assert rc == 2 and "9" in err and "17" in err and "Traceback" not in err  # nearest valid counts
    rc = cli.main(["animate", img, "waves", "--model", "NoSuchModel", "--models-dir", str(models),
                   "-o", str(tmp_path / "x.mp4")])
    err = capsys.readouterr().err
    assert rc == 2 and "NoSuchModel" in err and "Traceback" not in err
    rc = cli.main(["animate", img, "waves", "--model", name, "--models-dir", str(models),
                   "--border-color", "blue", "-o", str(tmp_path / "x.mp4")])
    err = capsys.readouterr().err
    assert rc == 2 and "'blue' is not a colour" in err and "Traceback" not in err
    assert not (tmp_path / "x.mp4").exists()


def test_ctrl_c_cancels_cleanly_without_partial_file(tiny_models, characters, tmp_path, capsys, monkeypatch):
    """Ctrl-C arrives at a known point (the second sampling step), not after a wall-clock delay."""
    from motioncomic import host

    models, name = tiny_models
    out = tmp_path / "clip.mp4"
    real_update = host.Progress.update_absolute
    sent = []

    def update(self, value, preview=None):
        if value >= 2 and not sent:
            sent.append(value)
            os.kill(os.getpid(), signal.SIGINT)  # delivered to the CLI's handler before the next check
        real_update(self, value, preview)

    monkeypatch.setattr(host.Progress, "update_absolute", update)
    rc = cli.main(["animate", str(characters / "fairy_girl.png"), "she waves", "--model", name,
                   "--models-dir", str(models), "--frames", "9", "--steps", "50", "-o", str(out)])
    assert sent, "the run never reached a second progress step"
    assert rc == 130 and "cancelled" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
