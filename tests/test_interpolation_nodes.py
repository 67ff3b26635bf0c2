"""The interpolation nodes, called directly as ComfyUI would (no server)."""
from __future__ import annotations

import pytest
import torch

import tiny_interpolation as ti
from motioncomic.errors import CheckpointError, ModelNotFoundError, MotionComicError
from motioncomic.interpolation.base import Interpolator
from motioncomic.nodes import NODE_CLASS_MAPPINGS as _NODES
from motioncomic.nodes.interpolation import FLOW, FLOW_FAST

MotionComicInterpolate, MotionComicLoadInterpolator = _NODES["MotionComicInterpolate"], _NODES["MotionComicLoadInterpolator"]


def test_node_definitions_have_tooltips_and_our_types():
    from motioncomic.nodes import NODE_CLASS_MAPPINGS

    for name in ("MotionComicLoadInterpolator", "MotionComicInterpolate"):
        cls = NODE_CLASS_MAPPINGS[name]
        for spec in cls.INPUT_TYPES()["required"].values():
            assert spec[1]["tooltip"]
    assert MotionComicLoadInterpolator.RETURN_TYPES == ("MOTIONCOMIC_INTERPOLATOR",)
    assert MotionComicInterpolate.RETURN_TYPES == ("IMAGE", "FLOAT", "VIDEO")
    assert "MOTIONCOMIC_INTERPOLATOR" == MotionComicInterpolate.INPUT_TYPES()["required"]["interpolator"][0]


def test_choices_list_checkpoints_but_not_gmflow(models_dir):
    vfi = models_dir / "vfi"
    (vfi / "sub").mkdir(parents=True)
    for name in ("ours-1-2-points.pkl", "sub/ours-local.pth", "gmflow_sintel-0c07dcb3.pth", "notes.txt"):
        (vfi / name).write_bytes(b"x")
    choices = MotionComicLoadInterpolator.INPUT_TYPES()["required"]["model"][0]
    assert choices == [FLOW, FLOW_FAST, "ours-1-2-points.pkl", "sub/ours-local.pth"]


def test_flow_clip_through_both_nodes():
    (interp,) = MotionComicLoadInterpolator().load(FLOW, "auto", "auto")
    assert isinstance(interp, Interpolator) and not interp.midpoint_only
    keys = ti.clip(range(4), h=48, w=64)
    before = keys.clone()
    frames, fps, _ = MotionComicInterpolate().interpolate(keys, 8.0, interp, 3, 0.0, 0.4)
    assert frames.shape == (10, 48, 64, 3) and frames.dtype == torch.float32 and fps == 24.0
    assert torch.equal(keys, before) and torch.equal(frames[3], keys[1]) and torch.equal(frames[9], keys[3])
    frames, fps, _ = MotionComicInterpolate().interpolate(keys, 24.0, interp, 2, 60.0, 0.0)
    assert fps == 60.0 and frames.shape[0] == 3 * 5 // 2 + 1


def test_the_fast_flow_choice_is_dis_ultrafast_and_still_beats_the_blend():
    (fast,) = MotionComicLoadInterpolator().load(FLOW_FAST, "auto", "cpu")
    (medium,) = MotionComicLoadInterpolator().load(FLOW, "auto", "cpu")
    assert (fast.preset, medium.preset) == ("ultrafast", "medium")
    keys, truth = ti.clip([1, 2], h=96, w=128), ti.clip([1.5], h=96, w=128)  # measured: +3.5 / +4.7 dB
    blend = ti.psnr(0.5 * (keys[0] + keys[1]), truth[0])
    got = {i.preset: MotionComicInterpolate().interpolate(keys, 8.0, i, 2, 0.0, 0.0)[0][1] for i in (fast, medium)}
    assert not torch.equal(got["ultrafast"], got["medium"])
    assert ti.psnr(got["ultrafast"], truth[0]) > blend + 2.5 and ti.psnr(got["medium"], truth[0]) > blend + 3.5


def test_interpolate_node_holds_frames_at_a_cut():
    (interp,) = MotionComicLoadInterpolator().load(FLOW)
    keys = ti.clip([0, 1, 2, 3], h=48, w=64, cut_at=1.5)
    frames, _, _ = MotionComicInterpolate().interpolate(keys, 8.0, interp, 2, 0.0, 0.4)
    assert torch.equal(frames[3], keys[2])  # between 1 and 2: a held copy, not a blend
    off, _, _ = MotionComicInterpolate().interpolate(keys, 8.0, interp, 2, 0.0, 0.0)
    assert not torch.equal(off[3], keys[2]) and not torch.equal(off[3], keys[1])


def test_interpolate_node_errors():
    (interp,) = MotionComicLoadInterpolator().load(FLOW)
    node = MotionComicInterpolate()
    with pytest.raises(MotionComicError, match="at least 2 frames"):
        node.interpolate(torch.rand(1, 16, 16, 3), 8.0, interp, 2, 0.0, 0.4)
    with pytest.raises(MotionComicError, match="multiplier"):
        node.interpolate(torch.rand(2, 16, 16, 3), 8.0, interp, 1, 0.0, 0.4)
    with pytest.raises(MotionComicError, match="above the input fps"):
        node.interpolate(torch.rand(2, 16, 16, 3), 24.0, interp, 2, 12.0, 0.4)
    with pytest.raises(MotionComicError, match="Load Interpolator"):
        node.interpolate(torch.rand(2, 16, 16, 3), 8.0, "flow", 2, 0.0, 0.4)


def test_load_sgm_vfi_checkpoint_through_the_node(models_dir):
    from tiny_sgm_vfi import seeded_init

    from motioncomic.interpolation.sgm_vfi.network import SGMConfig, SGMVFI

    net = SGMVFI(SGMConfig(8, (1, 1, 1, 2))).eval()
    seeded_init(net, 3)
    (models_dir / "vfi").mkdir()
    torch.save({"model": {f"module.{k}": v for k, v in net.state_dict().items()}},
               models_dir / "vfi" / "ours-1-2-points.pkl")
    (interp,) = MotionComicLoadInterpolator().load("ours-1-2-points.pkl", "auto", "cpu")
    assert interp.midpoint_only and interp.multiple == 32
    keys = torch.rand(3, 40, 56, 3)
    frames, fps, _ = MotionComicInterpolate().interpolate(keys, 12.0, interp, 2, 0.0, 0.0)
    assert frames.shape == (5, 40, 56, 3) and fps == 24.0 and torch.equal(frames[4], keys[2])
    assert torch.isfinite(frames).all()
    # the wrong file and a missing one
    torch.save({"model": torch.nn.Conv2d(3, 3, 3).state_dict()}, models_dir / "vfi" / "rife.pkl")
    with pytest.raises(CheckpointError):
        MotionComicLoadInterpolator().load("rife.pkl", "fp32", "cpu")
    with pytest.raises(ModelNotFoundError, match="ours-1-2-points.pkl"):
        MotionComicLoadInterpolator().load("gone.pkl", "fp32", "cpu")


def test_shipped_api_workflow_runs_in_process(tmp_path, monkeypatch, models_dir):
    """workflows/api/interpolate_clip.json on the input that make_workflow_inputs writes: 9 -> 17 frames, 8 -> 16 fps."""
    import json
    from pathlib import Path

    from api_runner import run_api_graph

    from motioncomic.media.video import probe_video

    monkeypatch.setenv("MOTIONCOMIC_INPUT_DIR", str(tmp_path / "input"))
    monkeypatch.setenv("MOTIONCOMIC_OUTPUT_DIR", str(tmp_path / "output"))
    ti.install_for_workflows(models_dir)
    ti.make_workflow_inputs(tmp_path / "input")
    graph = json.loads((Path(__file__).parents[1] / "workflows" / "api" / "interpolate_clip.json").read_text())
    res = run_api_graph(graph)
    frames, fps, _ = res["3"]
    assert frames.shape == (17, 96, 128, 3) and fps == 16.0
    assert torch.equal(frames[::2], res["1"][0])  # decoded originals pass through unchanged
    saved = [p for p in (tmp_path / "output").rglob("*.mp4")]
    assert len(saved) == 1 and probe_video(saved[0])["frames"] == 17


def test_rife_files_are_listed_and_loaded_by_their_tensors(models_dir):
    from tiny_sgm_vfi import seeded_init

    from motioncomic.interpolation.rife.layouts import BY_LABEL
    from motioncomic.interpolation.rife.network import IFNet

    net = IFNet(BY_LABEL["4.7-4.9"]).eval()
    seeded_init(net, 4)
    (models_dir / "vfi").mkdir()
    torch.save(net.state_dict(), models_dir / "vfi" / "rife49.pth")
    torch.save({f"module.{k}": v for k, v in net.state_dict().items()}, models_dir / "vfi" / "flownet.pkl")
    choices = MotionComicLoadInterpolator.INPUT_TYPES()["required"]["model"][0]
    assert choices == [FLOW, FLOW_FAST, "flownet.pkl", "rife49.pth"]
    for name in ("rife49.pth", "flownet.pkl"):
        (interp,) = MotionComicLoadInterpolator().load(name, "auto", "cpu")
        assert interp.name == "rife 4.7-4.9" and not interp.midpoint_only
    frames, fps, _ = MotionComicInterpolate().interpolate(torch.rand(2, 24, 40, 3), 12.0, interp, 3, 0.0, 0.0)
    assert frames.shape == (4, 24, 40, 3) and fps == 36.0 and torch.isfinite(frames).all()
    assert (interp.scale, interp.ensemble) == (None, False)  # the optional inputs' defaults: auto, off
    (tuned,) = MotionComicLoadInterpolator().load("rife49.pth", "fp32", "cpu", "0.5", True)
    assert (tuned.scale, tuned.ensemble, tuned.name) == (0.5, True, "rife 4.7-4.9 ensemble scale 0.5")
    a, b = torch.rand(1, 24, 40, 3), torch.rand(1, 24, 40, 3)
    assert not torch.equal(tuned.pair(a, b, 0.5), interp.pair(a, b, 0.5))
    with pytest.raises(MotionComicError, match="rife_scale must be one of"):
        MotionComicLoadInterpolator().load("rife49.pth", "fp32", "cpu", "0.3", False)
    torch.save({"model": torch.nn.Conv2d(3, 3, 3).state_dict()}, models_dir / "vfi" / "other.pth")
    with pytest.raises(CheckpointError, match="neither a RIFE nor an SGM-VFI checkpoint"):
        MotionComicLoadInterpolator().load("other.pth", "fp32", "cpu")


def test_frame_interpolation_packs_rife_folder_is_an_extra_vfi_location(tmp_path, monkeypatch):
    import comfy_standin

    from motioncomic import host
    from motioncomic.host import folders

    monkeypatch.setattr(folders, "_extra", {})  # the registration below must not outlive this test

    custom = tmp_path / "custom_nodes"
    rife = custom / "comfyui-frame-interpolation" / "ckpts" / "rife"  # registry installs are lower-case
    rife.mkdir(parents=True)
    (rife / "rife426.pth").write_bytes(b"x")
    moved = custom / "ComfyUI-Frame-Interpolation-old"  # not that pack: ignored
    (moved / "ckpts" / "rife").mkdir(parents=True)
    assert host.frame_interpolation_rife_dirs([custom]) == [rife.resolve()]
    other = tmp_path / "cn2" / "ComfyUI-Frame-Interpolation"
    (other / "weights" / "rife").mkdir(parents=True)
    (other / "config.yaml").write_text('ckpts_path: "./weights"\nops_backend: "cupy"\n')
    (other / "escape").mkdir()
    assert host.frame_interpolation_rife_dirs([tmp_path / "cn2"]) == [(other / "weights" / "rife").resolve()]
    (other / "config.yaml").write_text('ckpts_path: "../../.."\n')  # only folders inside the pack count
    assert host.frame_interpolation_rife_dirs([tmp_path / "cn2"]) == []
    with comfy_standin.installed(tmp_path) as c:
        c.folder_paths.folder_names_and_paths["custom_nodes"] = ([str(custom)], set())
        host.register_model_folders()
        assert str(rife.resolve()) in c.folder_paths.folder_names_and_paths["vfi"][0]
        assert "rife426.pth" in MotionComicLoadInterpolator.INPUT_TYPES()["required"]["model"][0]


def test_rife_is_counted_by_comfyuis_model_management(tmp_path, monkeypatch):
    import comfy_standin
    from tiny_sgm_vfi import seeded_init

    from motioncomic import host
    from motioncomic.host import folders
    from motioncomic.interpolation.rife.layouts import BY_LABEL
    from motioncomic.interpolation.rife.network import IFNet

    monkeypatch.setattr(folders, "_extra", {})
    net = IFNet(BY_LABEL["4.7-4.9"]).eval()
    seeded_init(net, 4)
    with comfy_standin.installed(tmp_path) as c:
        host.register_model_folders()
        (tmp_path / "models" / "vfi").mkdir(parents=True)
        torch.save(net.state_dict(), tmp_path / "models" / "vfi" / "rife47.pth")
        (interp,) = MotionComicLoadInterpolator().load("rife47.pth", "auto", "auto")
        assert "rife 4.7-4.9/ifnet" in [m["name"] for m in host.managed_status()]
        out = interp.pair(torch.rand(1, 32, 32, 3), torch.rand(1, 32, 32, 3), 0.5)
        assert out.shape == (1, 32, 32, 3)
        assert any(lm.model is interp.patchers["ifnet"] for lm in c.comfy_model_management.current_loaded_models)


def test_a_device_this_machine_lacks_is_refused_when_loading():
    import torch

    from motioncomic import host
    from motioncomic.nodes import interpolation as node

    assert node.DEVICES == host.DEVICE_CHOICES  # the node's list is the host's, written out
    if not torch.cuda.is_available():
        with pytest.raises(MotionComicError, match="device 'cuda' was chosen but this machine has no usable CUDA"):
            node.load(node.FLOW, "auto", "cuda")
    assert node.load(node.FLOW, "auto", "cpu")[0].device == torch.device("cpu")
    with pytest.raises(MotionComicError, match="device must be one of auto, cpu, cuda, mps"):
        node.load(node.FLOW, "auto", "tpu")
