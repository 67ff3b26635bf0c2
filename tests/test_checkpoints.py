"""Safe checkpoint reading: formats, truncation, pickles only with weights_only, meta assignment."""
from __future__ import annotations

import json
import os

import pytest
import torch
from safetensors.torch import load_file, save_file

from motioncomic.errors import CheckpointError
from motioncomic.loaders import checkpoints
from motioncomic.loaders.identify import describe_checkpoint


def _sd():
    g = torch.Generator().manual_seed(0)
    return {
        "a.weight": torch.randn(4, 3, generator=g),
        "a.bias": torch.randn(4, generator=g).to(torch.bfloat16),
        "b.idx": torch.arange(5),
        "empty": torch.zeros(0, 2),
    }


def test_safetensors_roundtrip_matches_reference_reader(tmp_path):
    p = tmp_path / "m.safetensors"
    save_file(_sd(), p)
    ours = checkpoints.read_state_dict(p)
    ref = load_file(p)
    assert ours.keys() == ref.keys()
    for k in ref:
        assert ours[k].dtype == ref[k].dtype and torch.equal(ours[k], ref[k])
    assert checkpoints.read_shapes(p)["a.weight"] == (4, 3)


def test_truncated_safetensors_is_named(tmp_path):
    p = tmp_path / "m.safetensors"
    save_file(_sd(), p)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) - 10])
    with pytest.raises(CheckpointError, match="truncated"):
        checkpoints.read_state_dict(p)
    p.write_bytes(data[:5])
    with pytest.raises(CheckpointError, match="truncated"):
        checkpoints.read_shapes(p)


def test_other_format_renamed_is_refused(tmp_path):
    p = tmp_path / "m.safetensors"
    p.write_bytes(b"PK\x03\x04" + os.urandom(200))
    with pytest.raises(CheckpointError, match="not a valid safetensors"):
        checkpoints.read_state_dict(p)


def test_pickles_load_with_weights_only_and_prefix_stripped(tmp_path):
    sd = {"module." + k: v for k, v in _sd().items()}
    p = tmp_path / "ema.pt"
    torch.save({"model": sd, "step": 3}, p)
    out = checkpoints.read_state_dict(p)
    assert set(out) == set(_sd())


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_pickle_with_code_is_refused(tmp_path):
    p = tmp_path / "bad.bin"
    torch.save({"w": torch.zeros(1), "x": _Evil()}, p)
    with pytest.raises(CheckpointError, match="weights_only"):
        checkpoints.read_state_dict(p)


def test_sharded_index(tmp_path):
    sd = _sd()
    save_file({k: sd[k] for k in ("a.weight", "a.bias")}, tmp_path / "model-00001-of-00002.safetensors")
    save_file({k: sd[k] for k in ("b.idx", "empty")}, tmp_path / "model-00002-of-00002.safetensors")
    weight_map = {k: "model-00001-of-00002.safetensors" for k in ("a.weight", "a.bias")}
    weight_map |= {k: "model-00002-of-00002.safetensors" for k in ("b.idx", "empty")}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    assert set(checkpoints.read_state_dict(tmp_path)) == set(sd)
    (tmp_path / "model-00002-of-00002.safetensors").unlink()
    with pytest.raises(CheckpointError, match="missing"):
        checkpoints.read_state_dict(tmp_path)


def test_assign_into_meta_module_converts_dtype(tmp_path):
    with torch.device("meta"):
        m = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    src = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    p = tmp_path / "w.safetensors"
    save_file({k: v.detach() for k, v in src.state_dict().items() if k != "1.bias"} | {"extra": torch.ones(1)}, p)
    missing, unexpected = checkpoints.assign_tensors(m, checkpoints.iter_tensors(p), dtype=torch.bfloat16)
    assert missing == ["1.bias"] and unexpected == ["extra"]
    assert m[0].weight.dtype == torch.bfloat16 and m[0].weight.device.type == "cpu"
    assert torch.equal(m[0].weight, src[0].weight.detach().to(torch.bfloat16))


def test_shape_mismatch_is_explained(tmp_path):
    with torch.device("meta"):
        m = torch.nn.Linear(3, 4)
    with pytest.raises(CheckpointError, match="another size"):
        checkpoints.assign_tensors(m, [("weight", torch.zeros(5, 3))])


def test_describe_checkpoint():
    assert describe_checkpoint(["x_embedder.proj.weight", "spatial_blocks.0.attn.qkv.weight",
                                "temporal_blocks.0.attn.qkv.weight"]).startswith("Open-Sora ST-DiT")
    assert "Stable Diffusion" in describe_checkpoint(["model.diffusion_model.input_blocks.0.0.weight"])
    assert describe_checkpoint(["foo.bar"]).startswith("an unknown model")
