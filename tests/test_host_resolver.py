"""The one model resolver: names stay inside the model folders; messages help; lists are cached."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from motioncomic import host
from motioncomic.errors import ModelNotFoundError


@pytest.fixture
def tree(models_dir, tmp_path):
    (models_dir / "vfi").mkdir()
    (models_dir / "vfi" / "ours-1-2-points.pkl").write_bytes(b"x")
    (models_dir / "CogVideo" / "CogVideoX-5b-I2V").mkdir(parents=True)
    (models_dir / "CogVideo" / "CogVideoX-5b-I2V" / "model_index.json").write_text("{}")
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"not a model")
    return models_dir, secret


@pytest.mark.parametrize("name", ["/etc/passwd", "../secret.bin", "../../secret.bin", "vfi/../../secret.bin",
                                  "~/secret.bin", "C:/Windows/win.ini", "..\\secret.bin", "", "a\0b"])
def test_names_never_leave_the_model_folders(tree, name):
    with pytest.raises(ModelNotFoundError) as e:
        host.find_model("vfi", name)
    assert "secret" not in str(e.value) or name.endswith("secret.bin")  # nothing about what exists outside
    assert host.clean_name(name) is None


def test_inside_names_and_trusted_paths(tree):
    models, secret = tree
    assert host.find_model("vfi", "ours-1-2-points.pkl") == models / "vfi" / "ours-1-2-points.pkl"
    assert host.find_model(("vfi", "CogVideo"), "CogVideoX-5b-I2V").is_dir()
    assert host.find_model("vfi", "sub/../ours-1-2-points.pkl").name == "ours-1-2-points.pkl"
    # the command line (what the user typed) and Python callers with a Path may point anywhere
    assert host.find_model("vfi", str(secret), allow_absolute=True) == secret
    assert host.find_model("vfi", secret) == secret
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        host.find_model("vfi", str(secret) + ".gone", allow_absolute=True)


def test_symlinks_placed_in_a_model_folder_are_followed(tree, tmp_path):
    models, _ = tree
    outside = tmp_path / "big-disk"
    outside.mkdir()
    (outside / "rife49.pth").write_bytes(b"x")
    os.symlink(outside, models / "vfi" / "linked")
    assert host.find_model("vfi", "linked/rife49.pth").read_bytes() == b"x"
    assert "linked/rife49.pth" in host.list_files("vfi")


def test_not_found_lists_each_place_once_close_names_and_sources(tree):
    models, _ = tree
    with pytest.raises(ModelNotFoundError) as e:
        host.find_model(("CogVideo", "diffusers"), "CogVideoX-5B-I2V", what="CogVideoX model")
    msg = str(e.value)
    assert msg.count(str(models / "CogVideo")) == 1 and msg.count(str(models / "diffusers")) == 1
    assert "Did you mean 'CogVideoX-5b-I2V'?" in msg and "Available: CogVideoX-5b-I2V." in msg
    assert "huggingface.co/THUDM/CogVideoX-5b-I2V" in msg and host.DOCS_MODELS in msg
    with pytest.raises(ModelNotFoundError, match="No model is installed yet"):
        host.find_model("LLM", "qwen")


def test_file_list_is_cached_until_a_folder_changes(tree, monkeypatch):
    models, _ = tree
    assert host.list_files("vfi") == ["ours-1-2-points.pkl"]
    walks = []
    real_walk = os.walk
    monkeypatch.setattr(os, "walk", lambda *a, **k: walks.append(a) or real_walk(*a, **k))
    assert host.list_files("vfi", [".pkl"]) == ["ours-1-2-points.pkl"]
    assert walks == []  # served from the cache: no recursive walk per /object_info
    (models / "vfi" / "new.pth").write_bytes(b"x")
    os.utime(models / "vfi", None)
    assert host.list_files("vfi") == ["new.pth", "ours-1-2-points.pkl"] and walks


def test_empty_dropdown_points_to_the_docs():
    assert host.empty_choice("CogVideoX model", "CogVideo") == \
        "(no CogVideoX model in models/CogVideo/ - see docs/models.md)"


def test_owner_search_path(tree, tmp_path):
    other = tmp_path / "ComfyUI-Frame-Interpolation" / "ckpts" / "rife"
    other.mkdir(parents=True)
    (other / "rife49.pth").write_bytes(b"x")
    host.add_search_path("vfi", other)
    try:
        assert "rife49.pth" in host.list_files("vfi")
        assert host.find_model("vfi", "rife49.pth") == other / "rife49.pth"
    finally:
        from motioncomic.host import folders

        folders._extra.pop("vfi", None)


def test_input_files_are_listed_fresh_and_confined(tmp_path, monkeypatch):
    from motioncomic.errors import MotionComicError

    inp = tmp_path / "input"
    (inp / "sub").mkdir(parents=True)
    (inp / "a.mp4").write_bytes(b"x")
    (inp / ".hidden.mp4").write_bytes(b"x")
    (inp / "notes.txt").write_text("x")
    (tmp_path / "secret.mp4").write_bytes(b"x")
    monkeypatch.setenv("MOTIONCOMIC_INPUT_DIR", str(inp))
    assert host.list_input_files([".mp4"]) == ["a.mp4"]
    (inp / "sub" / "b.MP4").write_bytes(b"x")  # a new file in a sub-folder: the cached listing is renewed
    assert host.list_input_files([".mp4"]) == ["a.mp4", "sub/b.MP4"]
    assert host.find_input("sub/b.MP4 [input]", "video") == (inp / "sub" / "b.MP4").resolve()
    for bad in ("../secret.mp4", str(tmp_path / "secret.mp4"), "sub/../../secret.mp4", "a.mp4\0", ""):
        with pytest.raises(MotionComicError, match="must be inside the input folder"):
            host.find_input(bad, "video")
    with pytest.raises(MotionComicError, match="not found in the input folder"):
        host.find_input("nope.mp4", "video")
