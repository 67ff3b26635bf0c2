"""MimicMotion: frames equal upstream's pipeline (expected values from Tencent/MimicMotion run on
this machine, see the metadata of tests/data/mimicmotion/expected_tiny.safetensors), the three
checkpoint layouts, letterbox framing of reference and poses with one plan, frame-rate keeping,
tiles, and the bad inputs (no PoseNet, poses of another size, cancel mid-tile)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

import tiny_mimicmotion as tm
from motioncomic import host
from motioncomic.errors import Cancelled, MotionComicError, ModelNotFoundError
from motioncomic.samplers.i2v import image_to_video
from motioncomic.loaders.mimicmotion import load_mimicmotion
from motioncomic.samplers import mimicmotion as engine
from motioncomic.samplers.mimicmotion import pose_to_video

DATA = Path(__file__).parent / "data" / "mimicmotion"
#: upstream against itself at 1 vs 2 CPU threads differs by up to 3.9e-6 (see the file's metadata)
ATOL = 1e-5


@pytest.fixture(scope="module")
def mdir(tmp_path_factory):
    with tm.installed_models(tmp_path_factory.mktemp("mimic")) as d:
        yield d


@pytest.fixture(scope="module")
def mimic(mdir):
    return load_mimicmotion(tm.WORKFLOW_MODEL, device="cpu", dtype="fp32")


@pytest.fixture(scope="module")
def expected():
    path = DATA / "expected_tiny.safetensors"
    return load_file(str(path)), json.loads(safe_open(str(path), "pt").metadata()["settings"])


def _run(vm, e, st, **over):
    poses = e["poses"].float() / 255.0
    opts = dict(cfg=st["max_guidance_scale"], min_cfg=st["min_guidance_scale"], tile_frames=st["tile_size"],
                tile_overlap=st["tile_overlap"], sample_stride=1, noise_aug_strength=st["noise_aug_strength"],
                decode_chunk=st["decode_chunk_size"], fps=st["fps"])
    opts.update(over.pop("options", {}))
    return pose_to_video(vm, e["reference"][None].float() / 255.0, over.pop("poses", poses[1:]),
                         reference_pose=poses[:1], resolution=st["height"], seed=over.pop("seed", st["seed"]),
                         steps=st["num_inference_steps"], options=opts, **over)


def test_equals_upstream_pipeline(mimic, expected):
    e, st = expected
    res = _run(mimic, e, st)
    assert res.frames.shape == e["frames"].shape == (10, 48, 64, 3)
    assert res.plan.frame == (48, 64) and res.plan.content.h == 48
    torch.testing.assert_close(res.frames, e["frames"], atol=ATOL, rtol=0)
    other = _run(mimic, e, st, seed=12)
    assert (other.frames - e["frames"]).abs().max() > 100 * ATOL  # the tolerance cannot hide a wrong run
    assert any("3 tiles of 6 (overlap 2)" in r for r in res.report)


def test_tiles_and_weights_follow_upstream():
    assert engine.tile_indices(11, 6, 2) == [[0, 1, 2, 3, 4, 5], [0, 5, 6, 7, 8, 9], [0, 6, 7, 8, 9, 10]]
    assert engine.tile_indices(73, 72, 6) == [[0, *range(1, 72)], [0, *range(2, 73)]]
    assert engine.tile_indices(5, 72, 6) == [[0, 1, 2, 3, 4]]  # shorter than a tile: one tile
    w = engine.tile_weights(4)
    assert torch.allclose(w, torch.tensor([0.25, 0.75, 0.75, 0.25]))


def test_checkpoint_layouts_load_the_same_weights(mdir, mimic, tmp_path):
    folder = mdir / "mimicmotion"
    tm.write_merged_unet(folder / tm.MERGED_UNET)
    tm.write_posenet_file(folder / tm.POSENET_FILE)
    merged = load_mimicmotion(tm.MERGED_UNET, device="cpu", dtype="fp32")
    assert merged.info["layout"] == "merged" and merged.info["pose_net"].endswith(tm.POSENET_FILE)
    for name in ("unet", "pose_net"):
        want = {k: v.half().float() for k, v in mimic.components[name].state_dict().items()}
        got = merged.components[name].state_dict()
        assert want.keys() == got.keys() and all(torch.equal(want[k], got[k]) for k in want)
    assert sum(p.numel() for p in mimic.components["pose_net"].parameters()) == 205557 - (320 - 32) * 129
    (folder / tm.POSENET_FILE).unlink()


def test_file_without_posenet_says_where_to_get_it(mdir):
    folder = mdir / "mimicmotion"
    tm.write_merged_unet(folder / "merged_only.safetensors")
    tm.write_mimicmotion_pth(folder / "unet_only.pth", with_posenet=False)
    with pytest.raises(ModelNotFoundError, match=r"holds the UNet only .*mimic_motion_pose_net.safetensors.*MimicMotion_1-1.pth"):
        load_mimicmotion("merged_only.safetensors", device="cpu", dtype="fp32")
    with pytest.raises(ModelNotFoundError, match=r"no pose_net.\* tensors: the PoseNet weights are missing"):
        load_mimicmotion("unet_only.pth", device="cpu", dtype="fp32")


def test_letterbox_reference_and_poses_with_one_plan(mimic):
    ref = torch.rand(1, 90, 40, 3)
    poses = tm.pose_images(5, 90, 40, seed=1)
    opts = dict(tile_frames=4, tile_overlap=1, sample_stride=1)
    res = pose_to_video(mimic, ref, poses, reference_pose=poses[:1], resolution=48, steps=1, options=opts)
    plan = res.plan
    assert plan.mode == "pad" and plan.frame == (80, 48)  # portrait: short side 48, long <= 1024/576 x 48
    assert res.frames.shape == (5, plan.content.h, plan.content.w, 3)
    assert abs(plan.content.w / plan.content.h - 40 / 90) < 0.03
    framed = torch.zeros(5, 80, 48, 3)
    framed[:, plan.content.y : plan.content.y + plan.content.h, plan.content.x : plan.content.x + plan.content.w] = \
        engine.fr.resize_images(poses, plan.scaled)
    again = pose_to_video(mimic, ref, framed, reference_pose=framed[:1], plan=plan, steps=1, options=opts)
    torch.testing.assert_close(again.frames, res.frames, atol=ATOL, rtol=0)  # poses at the frame size: same clip


def test_poses_of_another_size_than_the_plan(mimic):
    ref = torch.rand(1, 90, 40, 3)
    with pytest.raises(MotionComicError, match=r"pose images are 64x64 but the reference image is 40x90 and its "
                                               r"letterboxed frame 48x80"):
        pose_to_video(mimic, ref, tm.pose_images(3, 64, 64), resolution=48, steps=1)


def test_described_first_and_loaded_only_after_the_pose_checks(mimic, mdir):
    """Load MimicMotion hands out a described model: poses of the wrong size fail before ~10 GB of
    real weights would be read; the first good run loads them and gives the eager model's frames."""
    from motioncomic.loaders.registry import load_video_model

    vm = load_video_model(tm.WORKFLOW_MODEL, family="mimicmotion", defer=True, device="cpu", dtype="fp32")
    assert not vm.loaded and vm.modules() == {}
    assert (vm.frame, vm.frame_counts, vm.info["tile_frames"]) == (mimic.frame, mimic.frame_counts,
                                                                    mimic.info["tile_frames"])
    ref = torch.rand(1, 90, 40, 3)
    with pytest.raises(MotionComicError, match="pose images are 64x64"):
        pose_to_video(vm, ref, tm.pose_images(3, 64, 64), resolution=48, steps=1)
    assert not vm.loaded
    with pytest.raises(MotionComicError, match="connect the model to Pose to Video"):
        image_to_video(vm, ref, "", num_frames=3, steps=1)
    assert not vm.loaded  # the Image to Video node refuses it before ~10 GB are read
    ref, poses = torch.rand(1, 48, 64, 3), tm.pose_images(3, 48, 64, seed=4)
    got = pose_to_video(vm, ref, poses, reference_pose=poses[:1], resolution=48, steps=1, seed=1).frames
    assert vm.loaded and set(vm.modules()) == set(mimic.modules())
    torch.testing.assert_close(got, pose_to_video(mimic, ref, poses, reference_pose=poses[:1], resolution=48, steps=1,
                                                  seed=1).frames, atol=0, rtol=0)


def test_stride_keeps_the_driving_frame_rate(mimic):
    ref = torch.rand(1, 48, 64, 3)
    poses = tm.pose_images(8, 48, 64, seed=2)
    opts = dict(tile_frames=4, tile_overlap=1)
    res = pose_to_video(mimic, ref, poses, reference_pose=poses[:1], resolution=48, fps=24, steps=1,
                        options={**opts, "sample_stride": 2})
    assert res.frames.shape[0] == 8 and res.fps == 24.0
    direct = pose_to_video(mimic, ref, poses[::2], reference_pose=poses[:1], resolution=48, fps=12, steps=1,
                           options={**opts, "sample_stride": 1})
    assert torch.equal(res.frames[0::2], direct.frames)  # generated frames are the stride-1 run on poses[::2]
    assert torch.equal(res.frames[7], res.frames[6])  # past the last pair: held
    mid = res.frames[1]
    assert not torch.equal(mid, res.frames[0]) and not torch.equal(mid, res.frames[2])
    none = pose_to_video(mimic, ref, poses, reference_pose=poses[:1], resolution=48, fps=24, steps=1,
                         options={**opts, "sample_stride": 2, "fill": "none"})
    assert none.frames.shape[0] == 4 and none.fps == 12.0 and torch.equal(none.frames, direct.frames)


def test_cancel_mid_tile(mimic):
    poses = tm.pose_images(8, 48, 64)
    calls = []

    def on_tile(done, total):
        calls.append((done, total))
        if done == 2:
            host.request_cancel()

    with pytest.raises(Cancelled):
        pose_to_video(mimic, torch.rand(1, 48, 64, 3), poses, resolution=48, steps=2,
                      options=dict(tile_frames=4, tile_overlap=1, sample_stride=1, callback=on_tile))
    assert calls == [(1, 6), (2, 6)]  # 3 tiles x 2 steps; stopped after the second tile


def test_wrong_entry_points(mimic, mdir):
    from motioncomic.samplers.i2v import image_to_video

    with pytest.raises(MotionComicError, match="connect the model to Pose to Video"):
        image_to_video(mimic, torch.rand(1, 48, 64, 3), "dance", num_frames=4, resolution=48)
    with pytest.raises(MotionComicError, match="version '2.0' is unknown"):
        load_mimicmotion(tm.WORKFLOW_MODEL, version="2.0", device="cpu")


def test_nodes_called_directly(mdir):
    from motioncomic.nodes.load_mimicmotion import MotionComicLoadMimicMotion
    from motioncomic.nodes.pose_to_video import MotionComicPoseToVideo

    req = MotionComicLoadMimicMotion.INPUT_TYPES()["required"]
    assert tm.WORKFLOW_MODEL in req["model"][0] and req["svd_folder"][0] == [tm.SVD_FOLDER]
    (vm,) = MotionComicLoadMimicMotion().load(tm.WORKFLOW_MODEL, tm.SVD_FOLDER, "(auto)", "1.0", "fp32", "none")
    assert vm.family == "mimicmotion" and vm.info["tile_frames"] == 16
    poses = tm.pose_images(5, 40, 30)
    frames, fps, report = MotionComicPoseToVideo().generate(
        vm, torch.rand(1, 40, 30, 3), poses, 25.0, 1, 1, 2.0, 64, 2, "flow", 4, 1, 0.0, reference_pose=poses[:1])
    assert frames.shape[0] == 5 and fps == 25.0 and "MimicMotion 1.0" in report
