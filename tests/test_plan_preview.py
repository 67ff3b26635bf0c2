"""The UI's letterbox preview comes from the same framing code the sampler runs."""
from __future__ import annotations

import pytest
import torch

import tiny_cogvideox
from motioncomic.errors import MotionComicError
from motioncomic.samplers.framing import choose_frame, plan_frame
from motioncomic.samplers.plan_preview import plan_for_query


def test_cogvideox_folder_plan_matches_loaded_model(models_dir):
    tiny_cogvideox.install_for_workflows(models_dir)
    from motioncomic.loaders.cogvideox import model_choices

    name = model_choices()[0]
    query = {"loader": "MotionComicLoadCogVideoX", "loader.model": name, "width": "400", "height": "944",
             "framing": "pad", "frames": "50"}
    out = plan_for_query(query)
    from motioncomic.loaders.registry import load_video_model

    vm = load_video_model(name, dtype=torch.float32, device="cpu")
    frame = choose_frame(vm.frame, (944, 400))
    plan = plan_frame((944, 400), frame, "pad")
    assert (out["frame"]["height"], out["frame"]["width"]) == frame
    assert out["content"] == {"x": plan.content.x, "y": plan.content.y, "width": plan.content.w,
                              "height": plan.content.h}
    assert out["frames"]["valid"] is False
    assert out["frames"]["nearest"] == vm.frame_counts.nearest(50)


def test_opensora_bucket_plan_uses_options_resolution():
    out = plan_for_query({"loader": "MotionComicLoadSTDiT", "width": "400", "height": "944",
                          "options.resolution": "480p", "frames": "51"})
    assert out["frames"]["valid"] is True
    assert out["frame"]["height"] > out["frame"]["width"]  # tall character -> portrait bucket
    c = out["content"]
    assert c["height"] == out["frame"]["height"] or c["width"] == out["frame"]["width"]


def test_unknown_loader_and_missing_size():
    with pytest.raises(MotionComicError, match="no letterbox preview"):
        plan_for_query({"loader": "KSampler", "width": "10", "height": "10"})
    with pytest.raises(MotionComicError, match="width, height"):
        plan_for_query({"loader": "MotionComicLoadSTDiT"})
