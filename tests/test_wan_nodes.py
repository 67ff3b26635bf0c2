"""The Wan nodes called directly: Load Wan describes the model (every file checked, tokenizer loaded)
and the weights are read only when Image to Video runs; the UI's letterbox preview for Load Wan is
the plan the sampler uses; Wan Options reach the engine."""
from __future__ import annotations

import pytest
import torch

import tiny_wan as tw
from motioncomic.errors import CheckpointError, MotionComicError
from motioncomic.nodes.i2v_sampler import MotionComicImageToVideo
from motioncomic.nodes.load_wan import FROM_FOLDER, NONE, MotionComicLoadWan
from motioncomic.nodes.wan_options import MotionComicWanOptions
from motioncomic.samplers.framing import choose_frame, plan_frame
from motioncomic.samplers.plan_preview import plan_for_query

F = tw.WORKFLOW_FILES


@pytest.fixture
def wan_dir(models_dir):
    tw.install_for_workflows(models_dir)
    tw.write_vae_file(models_dir / "vae" / "wan_2.1_vae.safetensors", "2.1")
    return models_dir


def test_loader_describes_then_the_sampler_loads(wan_dir):
    spec = MotionComicLoadWan.INPUT_TYPES()["required"]
    assert F["model"] in spec["model"][0] and NONE in spec["model_2"][0]
    assert F["text_encoder"] in spec["text_encoder"][0] and FROM_FOLDER in spec["vae"][0]
    (vm,) = MotionComicLoadWan().load(F["model"], NONE, F["vae"], F["text_encoder"], "fp32", "none")
    assert vm.info.get("deferred") and "transformer" not in vm.components
    assert vm.frame.kind == "area" and vm.frame_counts.default == 121 and vm.text_tokens == 512
    with pytest.raises(MotionComicError, match="82 frames.*81 or 85"):  # refused before any weight is read
        MotionComicImageToVideo().generate(vm, torch.rand(1, 64, 64, 3), "she waves", "", 82, 2, 5.0, 0, "pad",
                                           "#000000", 64, False)
    with pytest.raises(MotionComicError, match="boundary_ratio 1.5 must be between 0 and 1"):
        MotionComicImageToVideo().generate(vm, torch.rand(1, 64, 64, 3), "she waves", "", 5, 2, 5.0, 0, "pad",
                                           "#000000", 64, False, options={"boundary_ratio": 1.5})
    assert "transformer" not in vm.components  # neither refusal read a weight
    (opts,) = MotionComicWanOptions().build("default", "Euler", 3.0, 0.0, 0.0)
    frames, fps, report, _video = MotionComicImageToVideo().generate(
        vm, torch.rand(1, 90, 40, 3), "she waves", "", 5, 2, 5.0, 0, "pad", "#000000", 64, False, options=opts)
    assert fps == 24.0 and frames.shape[0] == 5 and vm.components["transformer"] is not None
    assert "FlowMatchEulerDiscreteScheduler shift 3.0" in report


def test_loader_refuses_the_wrong_vae_before_loading(wan_dir):
    with pytest.raises(CheckpointError, match="is a Wan 2.1 VAE.*needs the Wan 2.2 VAE"):
        MotionComicLoadWan().load(F["model"], NONE, "wan_2.1_vae.safetensors", F["text_encoder"], "fp32", "none")


def test_preview_plan_is_the_samplers_plan(wan_dir):
    out = plan_for_query({"loader": "MotionComicLoadWan", "loader.model": F["model"], "width": "400",
                          "height": "944", "framing": "pad", "frames": "82"})
    (vm,) = MotionComicLoadWan().load(F["model"], NONE, F["vae"], F["text_encoder"], "fp32", "none")
    frame = choose_frame(vm.frame, (944, 400))
    plan = plan_frame((944, 400), frame, "pad")
    assert (out["frame"]["height"], out["frame"]["width"]) == frame == (1440, 608)
    assert out["content"]["height"] == plan.content.h and out["content"]["width"] == plan.content.w
    assert out["frames"] == {"requested": 82, "valid": False, "nearest": [81, 85]}
    with pytest.raises(MotionComicError, match="unknown model"):
        plan_for_query({"loader": "MotionComicLoadWan", "loader.model": "../../etc/passwd", "width": "4",
                        "height": "4"})
