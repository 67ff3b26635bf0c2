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


@pytest.mark.parametrize("name", ["/etc/passwd", "../../x.bin", "CogVideo", "no-such-model", "", "../secret"])
def test_plan_route_accepts_only_the_loaders_own_choices(models_dir, tmp_path, name):
    tiny_cogvideox.install_for_workflows(models_dir)
    (tmp_path / "secret").write_text("x")
    with pytest.raises(MotionComicError) as e:
        plan_for_query({"loader": "MotionComicLoadCogVideoX", "loader.model": name, "width": "400", "height": "400"})
    assert str(e.value) == "unknown model: choose one from the loader's list"  # nothing about the disk


def test_plan_route_never_unpickles_a_legacy_file(models_dir):
    tiny_cogvideox.install_for_workflows(models_dir)
    big = models_dir / "diffusion_models" / "legacy-2gb.bin"
    big.parent.mkdir(exist_ok=True)
    with open(big, "wb") as f:  # sparse: 2 GB on paper, nothing on disk; reading it would stall the server
        f.truncate(2 * 2**30)
    with pytest.raises(MotionComicError, match="no preview for pickle checkpoints"):
        plan_for_query({"loader": "MotionComicLoadCogVideoX", "loader.model": "legacy-2gb.bin",
                        "width": "400", "height": "400"})


@pytest.mark.parametrize("query", [{"width": "100000", "height": "10"}, {"width": "0", "height": "10"},
                                   {"width": "10", "height": "10", "frames": "999999999"}])
def test_plan_route_bounds_sizes(query):
    with pytest.raises(MotionComicError, match="must be 1..16384"):
        plan_for_query({"loader": "MotionComicLoadSTDiT", **query})


@pytest.mark.parametrize("resolution", ["999999999", "2049", "1" + "0" * 3000])
def test_plan_route_refuses_a_huge_resolution_quickly(models_dir, resolution):
    """The frame search grows with the square of the resolution: the route bounds it like the node
    (400 with the limit), before any model rule or frame is computed."""
    import asyncio
    import time

    import tiny_wan as tw
    from motioncomic.host.routes import answer
    from motioncomic.samplers.framing import MAX_RESOLUTION

    tw.install_for_workflows(models_dir)
    query = {"loader": "MotionComicLoadWan", "loader.model": tw.WORKFLOW_FILES["model"], "width": "400",
             "height": "944", "resolution": resolution}
    t0 = time.monotonic()
    status, body = asyncio.run(answer(plan_for_query, query))
    assert time.monotonic() - t0 < 2.0
    assert status == 400 and body["error"].startswith("resolution ")
    assert f"at most {MAX_RESOLUTION} pixels" in body["error"] and len(body["error"]) < 200
    query["resolution"] = str(MAX_RESOLUTION)  # the node's largest value still plans
    status, body = asyncio.run(answer(plan_for_query, query))
    assert status == 200 and body["frame"]["height"] > body["frame"]["width"]


def test_letterbox_node_plan_is_the_nodes_plan():
    from motioncomic.samplers.letterbox import PRESETS, letterbox_images

    name = next(iter(PRESETS))
    out = plan_for_query({"preset": name, "width": "2520", "height": "1080", "target_width": "0",
                          "target_height": "0", "framing": "pad"})
    _, plan = letterbox_images(torch.rand(1, 1080, 2520, 3), PRESETS[name])
    assert (out["frame"]["height"], out["frame"]["width"]) == plan.frame
    assert out["content"] == {"x": plan.content.x, "y": plan.content.y, "width": plan.content.w,
                              "height": plan.content.h}
    assert "frames" not in out
    with pytest.raises(MotionComicError, match="nearest valid: 992 or 1024"):
        plan_for_query({"preset": name, "width": "100", "height": "100", "target_width": "1000",
                        "target_height": "704"})
