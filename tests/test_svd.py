"""SVD image-to-video family: frames equal diffusers' StableVideoDiffusionPipeline exactly (CPU
float32, framing stretch at a legal size), letterbox framing, the fp16 hub variant, bad folders."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import tiny_mimicmotion as tm
from motioncomic import host
from motioncomic.errors import Cancelled, MotionComicError, ModelNotFoundError
from motioncomic.loaders.registry import load_video_model
from motioncomic.loaders.svd import load_svd
from motioncomic.samplers.i2v import image_to_video


@pytest.fixture(scope="module")
def mdir(tmp_path_factory):
    with tm.installed_models(tmp_path_factory.mktemp("svd")) as d:
        yield d


@pytest.fixture(scope="module")
def svd(mdir):
    return load_svd(tm.SVD_FOLDER, device="cpu", dtype="fp32")


def _uint8_image(h, w, seed=5):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("frames,cfg,chunk", [(5, 3.0, 2), (4, 1.0, 8)])
def test_equals_diffusers_pipeline_exactly(svd, frames, cfg, chunk):
    from diffusers import StableVideoDiffusionPipeline
    from PIL import Image

    from motioncomic.samplers.svd import make_scheduler

    c = svd.components
    pipe = StableVideoDiffusionPipeline(vae=c["vae"], image_encoder=c["image_encoder"], unet=c["unet"],
                                        scheduler=make_scheduler(svd), feature_extractor=c["feature_extractor"])
    pipe.set_progress_bar_config(disable=True)
    arr = _uint8_image(64, 96)
    opts = dict(min_cfg=1.0, fps=7, motion_bucket_id=100, noise_aug_strength=0.05, decode_chunk=chunk)
    ours = image_to_video(svd, torch.from_numpy(arr)[None].float() / 255.0, "", num_frames=frames, steps=3, cfg=cfg,
                          seed=7, framing="stretch", resolution=64, options=opts)
    assert ours.plan.frame == (64, 96)
    ref = pipe(Image.fromarray(arr), height=64, width=96, num_frames=frames, num_inference_steps=3,
               min_guidance_scale=1.0, max_guidance_scale=cfg, fps=7, motion_bucket_id=100, noise_aug_strength=0.05,
               decode_chunk_size=chunk, generator=torch.Generator().manual_seed(7), output_type="pt").frames[0]
    assert ours.frames.shape == (frames, 64, 96, 3)
    assert torch.equal(ours.frames, ref.permute(0, 2, 3, 1))
    other = image_to_video(svd, torch.from_numpy(arr)[None].float() / 255.0, "", num_frames=frames, steps=3, cfg=cfg,
                           seed=7, framing="stretch", resolution=64, options={**opts, "motion_bucket_id": 20})
    assert not torch.equal(other.frames, ours.frames)  # the motion bucket reaches the UNet


def test_letterbox_keeps_the_character_and_defaults(svd):
    tall = torch.rand(1, 90, 40, 3)
    res = image_to_video(svd, tall, "she waves", num_frames=3, steps=1, resolution=64)
    assert res.plan.mode == "pad" and res.plan.frame == (112, 64)  # portrait, long side <= 1024/576 x 64
    assert res.frames.shape == (3, res.plan.content.h, res.plan.content.w, 3)
    assert abs(res.plan.content.w / res.plan.content.h - 40 / 90) < 0.02
    assert any("prompt is not used" in r for r in res.report)
    assert svd.frame_counts.default == 25 and svd.fps == 7.0
    from motioncomic.samplers.svd import SVDOptions

    d = SVDOptions()
    assert (d.steps, d.min_cfg, d.cfg, d.fps, d.motion_bucket_id, d.noise_aug_strength) == (25, 1.0, 3.0, 7, 127, 0.02)


def test_fp16_variant_folder_and_family_detection(tmp_path):
    d = tmp_path / "models"
    tm.write_svd_folder(d / "diffusers" / "svd-fp16", variant="fp16")
    old = host.configured_models_dir()
    host.set_models_dir(d)
    try:
        vm = load_video_model("svd-fp16", device="cpu", dtype="fp32")
        assert vm.family == "svd" and vm.components["unet"].dtype == torch.float32
    finally:
        host.set_models_dir(old)


def test_folder_without_image_encoder_says_what_to_download(tmp_path):
    d = tmp_path / "models"
    tm.write_svd_folder(d / "diffusers" / tm.SVD_FOLDER, with_image_encoder=False)
    old = host.configured_models_dir()
    host.set_models_dir(d)
    try:
        with pytest.raises(ModelNotFoundError, match=r"image_encoder/config.json.*huggingface.co/stabilityai/"):
            load_svd(tm.SVD_FOLDER, device="cpu", dtype="fp32")
    finally:
        host.set_models_dir(old)


def test_bad_settings_and_cancel(svd):
    with pytest.raises(MotionComicError, match="motion bucket 5000 is out of range"):
        image_to_video(svd, torch.rand(1, 64, 64, 3), "", num_frames=3, steps=1, resolution=64,
                       options={"motion_bucket_id": 5000})
    calls = []

    def on_step(i, total):
        calls.append(i)
        host.request_cancel()

    with pytest.raises(Cancelled):
        image_to_video(svd, torch.rand(1, 64, 64, 3), "", num_frames=3, steps=3, resolution=64,
                       options={"callback": on_step})
    assert calls == [1]


def test_nodes_called_directly(mdir):
    from motioncomic.nodes.i2v_sampler import MotionComicImageToVideo
    from motioncomic.nodes.load_svd import MotionComicLoadSVD

    assert MotionComicLoadSVD.INPUT_TYPES()["required"]["model"][0] == [tm.SVD_FOLDER]
    (vm,) = MotionComicLoadSVD().load(tm.SVD_FOLDER, "fp32", "none")
    frames, fps, report, _video = MotionComicImageToVideo().generate(vm, torch.rand(1, 50, 70, 3), "", "", 3, 1, 0.0, 0,
                                                             "pad", "#000000", 64, False)
    assert frames.shape[0] == 3 and fps == 7.0 and "SVD: 3 frames" in report


def test_described_first_and_loaded_only_after_the_sampler_checks(svd, mdir):
    """Load SVD hands out a described model: a bad frame count fails before the weights are read."""
    vm = load_video_model(tm.SVD_FOLDER, family="svd", defer=True, device="cpu", dtype="fp32")
    assert not vm.loaded and vm.modules() == {}
    assert (vm.frame, vm.frame_counts, vm.fps, vm.dtype) == (svd.frame, svd.frame_counts, svd.fps, svd.dtype)
    with pytest.raises(MotionComicError, match="frame"):
        image_to_video(vm, torch.rand(1, 64, 64, 3), "", num_frames=1, steps=1, resolution=64)
    assert not vm.loaded
    with pytest.raises(MotionComicError, match="motion bucket 5000 is out of range"):
        image_to_video(vm, torch.rand(1, 64, 64, 3), "", num_frames=3, steps=1, resolution=64,
                       options={"motion_bucket_id": 5000})
    assert not vm.loaded  # the settings are checked before the weights are read too
    image = torch.rand(1, 64, 64, 3, generator=torch.Generator().manual_seed(3))
    got = image_to_video(vm, image, "", num_frames=3, steps=1, resolution=64, seed=2).frames
    assert vm.loaded and set(vm.modules()) == set(svd.modules())
    torch.testing.assert_close(got, image_to_video(svd, image, "", num_frames=3, steps=1, resolution=64,
                                                   seed=2).frames, atol=0, rtol=0)
