"""prepare-dataset on synthetic footage with real cuts and motion, through the real ffmpeg."""
from __future__ import annotations

import json
import shutil
from dataclasses import asdict

import numpy as np
import pytest
from PIL import Image

from motioncomic import cli, host
from motioncomic.errors import Cancelled, DatasetError, MotionComicError
from motioncomic.media.video import read_video
from motioncomic.training.caption import Captioner
from motioncomic.training.dataset import read_manifest
from motioncomic.training.prepare import PrepareSettings, prepare_dataset
from motioncomic.training.store import DatasetStore
from synthetic_footage import Shot, footage, write_footage

FPS = 24.0
# moving shot, still shot, a shot too short for one clip, a long moving shot (2 clips)
SHOTS = [Shot(60, 3, 0), Shot(60, 0, 1), Shot(20, 3, 2), Shot(90, 2, 3)]
SMALL = PrepareSettings(frames=9, fps=8.0)


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return write_footage(tmp_path_factory.mktemp("footage") / "ep01.mp4", SHOTS, fps=FPS)


@pytest.fixture
def videos(video, tmp_path):
    """A private copy of the footage (sidecar files can be put beside it)."""
    d = tmp_path / "in"
    d.mkdir()
    return shutil.copy(video, d / "ep01.mp4")


def test_splits_at_cuts_drops_still_and_short_shots(videos, tmp_path):
    out = tmp_path / "ds"
    report = prepare_dataset([videos], out, SMALL)
    clips = read_manifest(out)
    assert [(c.shot, c.id.rsplit("-", 1)[1]) for c in clips] == [(0, "00"), (3, "00"), (3, "01")]
    assert len(report.written) == 3 and report.resumed == 0
    rejected = [json.loads(line) for line in (out / "rejected.jsonl").read_text().splitlines()]
    kinds = {(r["kind"], r.get("shot")) for r in rejected}
    assert kinds == {("motion", 1), ("short", 2)}
    short = next(r for r in rejected if r["kind"] == "short")
    assert "7 frames" in short["reason"] and "needs 13" in short["reason"]
    # shot 3 starts at source frame 140; the 8 fps grid (every 3rd frame) first meets it at 141,
    # and its first clip starts after a margin of 2 clip frames
    assert clips[1].start == pytest.approx((141 + 2 * 3) / FPS, abs=1e-3)
    assert clips[1].end == pytest.approx(clips[1].start + 9 / 8, abs=1e-3)
    truth = np.stack(list(footage(SHOTS, 72, 128))).astype(np.float32) / 255
    decoded = (read_video(videos)[0] * 255 + 0.5).astype(np.uint8)
    for c in clips:
        frames, fps = read_video(c.path(out))
        assert frames.shape == (9, 72, 128, 3) and fps == pytest.approx(8.0)
        assert (c.width, c.height, c.frames, c.fps) == (128, 72, 9, 8.0)
        assert c.motion > SMALL.min_motion and c.caption_source == "none"
        # the clip shows the source at its time range: frame j = source frame start*24 + 3j
        first = round(c.start * FPS)
        assert np.abs(frames - truth[first:first + 27:3]).mean() < 0.02
        # the first frame is the decoded source frame itself (no resize at this size), bit for bit
        assert np.array_equal(np.asarray(Image.open(c.image_path(out))), decoded[first])
    assert (out / "videos.txt").read_text().split() == [c.video for c in clips]
    assert len((out / "prompts.txt").read_text().splitlines()) == 3


def test_unreadable_video_is_skipped_and_listed(videos, tmp_path, capsys):
    bad = videos.with_name("broken.mp4")
    bad.write_bytes(b"\x00not a video" * 500)
    out = tmp_path / "ds"
    rc = cli.main(["-q", "prepare-dataset", str(bad), str(videos), "-o", str(out), "--frames", "9"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert captured.out.strip() == str(out / "manifest.jsonl")
    assert "broken.mp4" in captured.err and "cannot read" in captured.err
    assert len(read_manifest(out)) == 3
    rejected = [json.loads(line) for line in (out / "rejected.jsonl").read_text().splitlines()]
    assert [r["source"] for r in rejected if r["kind"] == "unreadable"] == [str(bad)]


def test_truncated_video_gives_the_clips_of_its_readable_part(videos, tmp_path):
    data = videos.read_bytes()
    cut = videos.with_name("cut.mp4")
    cut.write_bytes(data[: len(data) * 3 // 5])
    prepare_dataset([cut], tmp_path / "ds", SMALL)
    assert [c.shot for c in read_manifest(tmp_path / "ds")] == [0]
    rejected = [json.loads(line) for line in (tmp_path / "ds" / "rejected.jsonl").read_text().splitlines()]
    tail = next(r for r in rejected if r["kind"] == "truncated")
    assert "of the ~230 frames the file announces" in tail["reason"] and tail["end"] == pytest.approx(230 / FPS, abs=0.1)


def test_no_usable_clips_says_why_each_was_dropped(tmp_path, capsys):
    v = write_footage(tmp_path / "still.mp4", [Shot(60, 0, 0), Shot(20, 3, 1)], fps=FPS)
    rc = cli.main(["-q", "prepare-dataset", str(v), "-o", str(tmp_path / "ds"), "--frames", "9"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert "no usable clips" in err and "still.mp4 shot 0" in err and "below --min-motion" in err
    assert "still.mp4 shot 1" in err and "has 7 frames" in err
    with pytest.raises(MotionComicError, match="no clips"):
        read_manifest(tmp_path / "ds")


class _CancelAfter(Captioner):
    """Asks to cancel while the n-th clip is being written (as Ctrl-C would)."""

    def __init__(self, n):
        super().__init__()
        self.n, self.calls = n, 0

    def caption(self, *a, **kw):
        self.calls += 1
        if self.calls == self.n:
            host.request_cancel()
        return super().caption(*a, **kw)


def test_cancel_leaves_a_consistent_dataset_and_a_rerun_finishes_it(videos, tmp_path):
    out = tmp_path / "ds"
    host.clear_cancel()
    with pytest.raises(Cancelled):
        prepare_dataset([videos], out, SMALL, _CancelAfter(2))
    host.clear_cancel()
    done = read_manifest(out)
    assert [c.shot for c in done] == [0]  # the clip being written when cancelled is not listed
    assert not list((out / "clips").glob(".*"))  # no partial files
    assert json.loads((out / "dataset.json").read_text())["videos"].popitem()[1]["status"] == "partial"
    first_mtime = done[0].path(out).stat().st_mtime_ns
    # a killed run: a clip file with no manifest line, and half a line at the end of the manifest
    orphan = out / "clips" / done[0].id.replace("s000-00", "s003-00.mp4")
    orphan.write_bytes(b"half a clip")
    with open(out / "manifest.jsonl", "a") as f:
        f.write('{"id": "ep01-x-s009-00", "vid')
    report = prepare_dataset([videos], out, SMALL)
    assert report.resumed == 1 and len(report.written) == 2
    clips = read_manifest(out)
    assert [c.shot for c in clips] == [0, 3, 3]
    assert clips[0].path(out).stat().st_mtime_ns == first_mtime  # finished clip not redone
    assert read_video(orphan)[0].shape[0] == 9  # the partial file was cut again
    again = prepare_dataset([videos], out, SMALL)  # done videos are skipped without decoding
    assert again.written == [] and again.resumed == 3


def test_nothing_is_overwritten_without_force(videos, tmp_path):
    out = tmp_path / "ds"
    prepare_dataset([videos], out, SMALL)
    with pytest.raises(MotionComicError, match=r"frames 9 -> 13.*--force"):
        prepare_dataset([videos], out, PrepareSettings(frames=13, fps=8.0))
    assert len(read_manifest(out)) == 3
    old = {c.video for c in read_manifest(out)}
    prepare_dataset([videos], out, PrepareSettings(frames=17, fps=8.0, margin=1), force=True)
    clips = read_manifest(out)
    assert [c.shot for c in clips] == [0, 3] and all(c.frames == 17 for c in clips)
    gone = old - {c.video for c in clips}
    assert gone == {clips[1].video.replace("-00.mp4", "-01.mp4")} and not (out / gone.pop()).exists()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    for force in (False, True):
        with pytest.raises(MotionComicError, match="not a motioncomic dataset"):
            prepare_dataset([videos], foreign, SMALL, force=force)
    assert (foreign / "notes.txt").read_text() == "keep me" and len(list(foreign.iterdir())) == 1


def test_bad_settings_are_refused_before_anything_is_written(videos, tmp_path):
    with pytest.raises(MotionComicError, match="Nearest valid: 49, 53"):
        prepare_dataset([videos], tmp_path / "a", PrepareSettings(frames=50))
    with pytest.raises(MotionComicError, match="does not exist"):
        prepare_dataset([videos, tmp_path / "nope.mp4"], tmp_path / "b", SMALL)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    # a clip rate above the source's would repeat frames: that video is dropped with the fix
    with pytest.raises(MotionComicError, match="below the clip rate 30 fps.*--fps source"):
        prepare_dataset([videos], tmp_path / "c", PrepareSettings(frames=9, fps=30.0))


def test_source_rate_and_folders(videos, tmp_path):
    out = tmp_path / "ds"
    prepare_dataset([videos.parent], out, PrepareSettings(frames=33, fps=None, margin=4, max_side=64))
    clips = read_manifest(out)
    assert clips and all(c.fps == pytest.approx(FPS) and (c.width, c.height) == (64, 36) for c in clips)
    assert read_video(clips[0].path(out))[0].shape == (33, 36, 64, 3)


def test_read_manifest_errors(tmp_path):
    with pytest.raises(MotionComicError, match="prepare-dataset"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.jsonl").write_text('{"id": "a"}\n{"id": "b"}\n')
    with pytest.raises(MotionComicError, match="line 1 is not a clip record.*missing fields"):
        read_manifest(tmp_path)


def _dataset_naming(root, video: str, image: str = "clips/b.png"):
    """A dataset whose manifest holds one good clip (line 1) and a line naming ``video`` (line 2)."""
    (root / "clips").mkdir(parents=True)
    for name in ("a.mp4", "a.png", "b.png"):
        (root / "clips" / name).write_bytes(b"mine")
    base = dict(caption="", caption_source="none", frames=9, fps=8.0, width=16, height=16, source="/src.mp4",
                start=0.0, end=1.125, shot=0, motion=1.0)
    lines = [dict(id="a", video="clips/a.mp4", first_frame="clips/a.png", **base),
             dict(id="b", video=video, first_frame=image, **base)]
    (root / "manifest.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    (root / "dataset.json").write_text(json.dumps({"format": "motioncomic-dataset", "version": 1,
                                                   "settings": asdict(SMALL), "videos": {}}))
    return root


def _refused_and_untouched(root, victims):
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    with pytest.raises(DatasetError, match=r"manifest.jsonl line 2: .*(refused|outside the dataset)"):
        read_manifest(root)
    for force in (False, True):  # resuming and --force both refuse it whole: nothing deleted anywhere
        with pytest.raises(DatasetError, match=r"manifest.jsonl line 2"):
            DatasetStore(root, asdict(SMALL), force=force)
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before
    assert all(v.read_text() == "keep me" for v in victims)


@pytest.mark.parametrize("name", ["{victim}", "../victim.mp4", "clips/../../victim.mp4", "clips\\..\\..\\victim.mp4",
                                  "C:/victim.mp4", "clips/b\0.mp4", "b.mp4", "~/victim.mp4"])
def test_a_manifest_naming_files_outside_the_dataset_is_refused(tmp_path, name):
    victim = tmp_path / "victim.mp4"
    victim.write_text("keep me")
    root = _dataset_naming(tmp_path / "ds", name.format(victim=victim))
    _refused_and_untouched(root, [victim])


def test_symbolic_links_out_of_the_dataset_are_refused(tmp_path):
    victim = tmp_path / "victim.mp4"
    victim.write_text("keep me")
    root = _dataset_naming(tmp_path / "ds", "clips/b.mp4")
    (root / "clips" / "b.mp4").symlink_to(victim)
    _refused_and_untouched(root, [victim])
    elsewhere = tmp_path / "elsewhere"  # the whole clips/ folder linked out
    elsewhere.mkdir()
    (elsewhere / "a.mp4").write_text("keep me")
    (elsewhere / "a.png").write_text("keep me")
    linked = tmp_path / "ds2"
    linked.mkdir()
    shutil.copy(root / "manifest.jsonl", linked)
    shutil.copy(root / "dataset.json", linked)
    (linked / "clips").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(DatasetError, match="line 1: .*outside the dataset folder"):
        read_manifest(linked)
    with pytest.raises(DatasetError, match="outside the dataset folder"):
        DatasetStore(linked, asdict(SMALL), force=True)
    assert sorted(p.name for p in elsewhere.iterdir()) == ["a.mp4", "a.png"]


def test_prepare_dataset_force_on_a_hostile_manifest_deletes_nothing(videos, tmp_path, capsys):
    victim = tmp_path / "victim.mp4"
    victim.write_text("keep me")
    root = _dataset_naming(tmp_path / "ds", "../victim.mp4")
    rc = cli.main(["-q", "prepare-dataset", str(videos), "-o", str(root), "--frames", "9", "--force"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err and "line 2" in err and "'../victim.mp4'" in err
    assert victim.read_text() == "keep me" and (root / "clips" / "a.mp4").read_text() == "mine"
