"""Open-Sora STDiT3: faithfulness to upstream v1.2.0 (forward, RFLOW, names/shapes), loading of
every checkpoint format, and the errors a user sees for wrong inputs."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from tiny_opensora import TINY_STDIT, build_tiny_stdit, save_tiny_stdit

DATA = Path(__file__).parent / "data" / "opensora"


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).norm() / b.double().norm())


@pytest.fixture(scope="module")
def expected():
    return load_file(str(DATA / "expected_stdit_tiny.safetensors"))


@pytest.fixture(scope="module")
def tiny():
    return build_tiny_stdit()


# --------------------------------------------------------------------------- faithfulness
def test_forward_matches_upstream(tiny, expected):
    e = expected
    with torch.no_grad():
        full = tiny(e["x"], e["timestep"], e["y"], mask=e["mask"], x_mask=e["x_mask"].bool(), fps=e["fps"],
                    height=e["height"], width=e["width"])
        null = tiny.y_embedder.y_embedding[None, None]
        two = lambda v: torch.tensor([v, v])  # noqa: E731
        cfg = tiny(torch.cat([e["x"], e["x"] * 0.5]), two(500.0), torch.cat([e["y"], null]), mask=e["mask"],
                   fps=two(24.0), height=two(48.0), width=two(80.0))
        odd = tiny(e["x_odd"], torch.tensor([250.0]), e["y"], fps=torch.tensor([8.0]),
                   height=torch.tensor([56.0]), width=torch.tensor([72.0]))
    assert full.dtype == torch.float32 and full.shape == (1, 8, 5, 6, 10)
    assert rel_err(full, e["out_full"]) < 1e-5
    assert rel_err(cfg, e["out_cfg"]) < 1e-5
    assert odd.shape == (1, 8, 5, 7, 9) and rel_err(odd, e["out_odd"]) < 1e-5
    # the conditioning-frame path really changes the output (x_mask is not ignored)
    with torch.no_grad():
        plain = tiny(e["x"], e["timestep"], e["y"], mask=e["mask"], fps=e["fps"], height=e["height"], width=e["width"])
    assert rel_err(plain, e["out_full"]) > 1e-3


@pytest.mark.parametrize("mode,frames", [("first", [0]), ("last", [-1]), ("loop", [0, -1]), ("none", [])])
def test_rflow_i2v_matches_upstream(tiny, expected, mode, frames):
    from motioncomic.samplers.rflow import sample_rflow

    e = expected
    z = e["z0"].clone()
    frame_mask = torch.ones(1, 5, dtype=torch.bool)
    for f in frames:
        z[:, :, f] = e["ref"][:, :, 0]
        frame_mask[:, f] = False
    out = sample_rflow(tiny, z, e["y"], e["mask"], steps=4, cfg_scale=7.0, height=48, width=80, num_frames=17,
                       fps=24, frame_mask=frame_mask if frames else None, progress=False)
    assert rel_err(out, e["rflow_" + mode]) < 1e-5
    for f in frames:  # conditioning frames come back untouched
        assert torch.equal(out[:, :, f], e["ref"][:, :, 0])


def test_timestep_transform_matches_upstream(expected):
    from motioncomic.samplers.rflow import rflow_timesteps

    rows = []
    for h, w, n in ((144, 256, 51), (720, 1280, 102), (480, 854, 17), (256, 256, 1)):
        f = lambda v: torch.tensor([float(v)])  # noqa: E731
        rows.append(torch.cat(rflow_timesteps(30, 1, f(h), f(w), f(n))))
    assert torch.allclose(torch.stack(rows), expected["transform_30"], rtol=1e-6, atol=1e-4)


def test_xl2_on_meta_has_upstreams_973_names_and_shapes():
    from motioncomic.loaders.opensora.stdit3 import STDiT3, STDiT3Config

    want = {k: tuple(v) for k, v in json.loads((DATA / "upstream_xl2_shapes.json").read_text()).items()}
    with torch.device("meta"):
        model = STDiT3(STDiT3Config())
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert len(want) == 973
    assert got == want


def test_config_inferred_from_shapes_of_a_custom_size():
    from motioncomic.loaders.opensora.load import infer_config
    from motioncomic.loaders.opensora.stdit3 import STDiT3, STDiT3Config

    big = STDiT3Config(hidden_size=1872, depth=3, num_heads=26)  # 3B/2 width, shallow
    with torch.device("meta"):
        shapes = {k: tuple(v.shape) for k, v in STDiT3(big).state_dict().items()}
    cfg = infer_config(shapes, {"input_sq_size": 256})
    assert (cfg.hidden_size, cfg.depth, cfg.num_heads, cfg.caption_channels, cfg.model_max_length) == (1872, 3, 26, 4096, 300)
    assert cfg.pred_sigma and cfg.qk_norm and cfg.input_sq_size == 256 and cfg.patch_size == (1, 2, 2)


# --------------------------------------------------------------------------- checkpoint formats
def _reference_output(model):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(1, 4, 2, 4, 4, generator=g)
    y = torch.randn(1, 1, 16, 32, generator=g)
    with torch.no_grad():
        return model(x, torch.tensor([400.0]), y, fps=torch.tensor([24.0]), height=torch.tensor([32.0]),
                     width=torch.tensor([32.0]))


def test_loads_every_checkpoint_format(tmp_path, tiny):
    from motioncomic.loaders.opensora import load_stdit

    want = _reference_output(tiny)
    sd = tiny.state_dict()
    # HF folder: config.json + model.safetensors
    hf = tmp_path / "hf"
    hf.mkdir()
    save_file(sd, str(hf / "model.safetensors"))
    (hf / "config.json").write_text(json.dumps({"model_type": "STDiT3", "input_sq_size": 512, "hidden_size": 64}))
    # training output: pytorch_model-0000x-of-00002.bin shards + index, module. prefix
    shards = tmp_path / "shards"
    shards.mkdir()
    names = sorted(sd)
    weight_map = {}
    for i, part in enumerate((names[: len(names) // 2], names[len(names) // 2:])):
        fname = f"pytorch_model-0000{i + 1}-of-00002.bin"
        torch.save({"module." + k: sd[k].clone() for k in part}, shards / fname)
        weight_map.update({"module." + k: fname for k in part})
    (shards / "pytorch_model.bin.index.json").write_text(json.dumps({"weight_map": weight_map}))
    # ema.pt with module. prefix, and a plain single safetensors file
    save_tiny_stdit(tmp_path / "ema.pt", prefix="module.")
    save_tiny_stdit(tmp_path / "single.safetensors")
    for path in (hf, hf / "model.safetensors", shards, shards / "pytorch_model.bin.index.json",
                 tmp_path / "ema.pt", tmp_path / "single.safetensors"):
        model = load_stdit(path)
        assert rel_err(_reference_output(model), want) < 1e-6, path
    half = load_stdit(tmp_path / "single.safetensors", dtype=torch.bfloat16)
    assert half.x_embedder.proj.weight.dtype == torch.bfloat16 and half.rope.freqs.dtype == torch.bfloat16
    assert rel_err(_reference_output(half), want) < 0.05


def test_other_families_are_named(tmp_path):
    from motioncomic.errors import CheckpointError
    from motioncomic.loaders.opensora import load_stdit

    cog = {"patch_embed.proj.weight": torch.zeros(4, 16, 2, 2), "transformer_blocks.0.norm1.linear.weight": torch.zeros(4, 4)}
    save_file(cog, str(tmp_path / "cog.safetensors"))
    with pytest.raises(CheckpointError, match="CogVideoX transformer"):
        load_stdit(tmp_path / "cog.safetensors")
    sd = {"model.diffusion_model.input_blocks.0.0.weight": torch.zeros(4, 4, 3, 3)}
    save_file(sd, str(tmp_path / "sd15.safetensors"))
    with pytest.raises(CheckpointError, match="Stable Diffusion"):
        load_stdit(tmp_path / "sd15.safetensors")
    vae = {"spatial_vae.module.encoder.conv_in.weight": torch.zeros(1), "temporal_vae.encoder.conv_in.conv.weight": torch.zeros(1)}
    save_file(vae, str(tmp_path / "vae.safetensors"))
    with pytest.raises(CheckpointError, match="Open-Sora VAE"):
        load_stdit(tmp_path / "vae.safetensors")


def test_incomplete_checkpoint_lists_missing_tensors(tmp_path, tiny):
    from motioncomic.errors import CheckpointError
    from motioncomic.loaders.opensora import load_stdit

    sd = {k: v for k, v in tiny.state_dict().items() if not k.startswith("temporal_blocks.1.mlp")}
    save_file(sd, str(tmp_path / "cut.safetensors"))
    with pytest.raises(CheckpointError, match="missing 4 STDiT3 tensors"):
        load_stdit(tmp_path / "cut.safetensors")


def test_tiny_config_is_the_documented_one(tiny):
    assert (tiny.hidden_size, len(tiny.spatial_blocks), tiny.num_heads) == (64, 2, 4)
    assert tuple(tiny.y_embedder.y_embedding.shape) == (TINY_STDIT["model_max_length"], TINY_STDIT["caption_channels"])


def test_rflow_reports_progress_and_honours_cancel(tiny, expected):
    from motioncomic import host
    from motioncomic.errors import Cancelled
    from motioncomic.samplers.rflow import sample_rflow

    e = expected
    seen = []

    def cb(i, z):
        seen.append(i)
        if i == 1:
            host.request_cancel()

    with pytest.raises(Cancelled):
        sample_rflow(tiny, e["z0"].clone(), e["y"], e["mask"], steps=4, height=48, width=80, num_frames=17,
                     progress=False, callback=cb)
    assert seen == [0, 1]  # stopped right after the step during which cancel was asked
    host.clear_cancel()
