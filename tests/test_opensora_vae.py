"""Open-Sora VAE v1.2: faithful to upstream (values computed by Open-Sora v1.2.0's own
``VideoAutoencoderPipeline`` on the tiny seeded file, see tests/data/opensora_vae/README.md),
full-size names and shapes, chunking rules, bad files."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from tiny_opensora_vae import tiny_clip, tiny_latents, tiny_vae_state_dict, write_tiny_opensora_vae

from motioncomic import host
from motioncomic.errors import Cancelled, CheckpointError, MotionComicError
from motioncomic.loaders.opensora.temporal_vae import TemporalVAEConfig, infer_temporal_config
from motioncomic.loaders.opensora.vae import (
    OFFICIAL_SPATIAL_CONFIG,
    OpenSoraVAE,
    load_opensora_vae,
    spatial_config_from_shapes,
)

DATA = Path(__file__).parent / "data" / "opensora_vae"
RTOL = 1e-5


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).norm() / b.double().norm())


@pytest.fixture(scope="module")
def expected() -> dict[str, torch.Tensor]:
    return load_file(str(DATA / "expected.safetensors"))


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory) -> Path:
    return write_tiny_opensora_vae(tmp_path_factory.mktemp("osvae") / "model.safetensors")


@pytest.fixture(scope="module")
def vae(tiny_file) -> OpenSoraVAE:
    torch.set_num_threads(1)
    return load_opensora_vae(tiny_file)


# ---------------------------------------------------------------------------- faithfulness
def test_encode_matches_upstream(vae, expected):
    z = vae.encode(tiny_clip((2, 3, 37, 32, 48), 1), sample=False)  # chunks 17+17+3 -> 5+5+1, B=2
    assert z.shape == (2, 4, 11, 4, 6)
    assert rel_err(z, expected["enc_mode_37"]) < RTOL
    z1 = vae.encode(tiny_clip((1, 3, 1, 32, 48), 2), sample=False)  # one image -> one latent frame
    assert z1.shape == (1, 4, 1, 4, 6)
    assert rel_err(z1, expected["enc_mode_1"]) < RTOL


def test_sampled_encode_matches_upstream_seed(vae, expected):
    """A generator seeded 123 draws the same noise, in the same order, as upstream after
    ``torch.manual_seed(123)`` (spatial micro-batches of 4 frames, then temporal chunks)."""
    g = torch.Generator().manual_seed(123)
    z = vae.encode(tiny_clip((1, 3, 20, 32, 48), 3), generator=g)
    assert z.shape == (1, 4, 6, 4, 6)
    assert rel_err(z, expected["enc_sample_20"]) < RTOL
    mean = vae.encode(tiny_clip((1, 3, 20, 32, 48), 3), sample=False)
    assert rel_err(z, mean) > 1e-3  # the noise really is there


def test_decode_matches_upstream(vae, expected):
    x = vae.decode(tiny_latents((1, 4, 6, 4, 6), 4), num_frames=20)  # chunks 5+1 latents -> 17+3
    assert x.shape == (1, 3, 20, 32, 48) and x.dtype == torch.float32
    assert rel_err(x, expected["dec_20"]) < RTOL
    x1 = vae.decode(tiny_latents((1, 4, 1, 4, 6), 5), num_frames=1)
    assert x1.shape == (1, 3, 1, 32, 48)
    assert rel_err(x1, expected["dec_1"]) < RTOL


def test_latent_sizes_match_upstream(vae, expected):
    ours = [vae.get_latent_size((t, 32, 48))[0] for t in range(1, 120)]
    assert ours == expected["latent_sizes"].tolist()
    assert vae.get_latent_size((51, 144, 256)) == [15, 18, 32]
    assert vae.get_latent_size((102, 720, 1280)) == [30, 90, 160]
    assert vae.get_latent_size((17, None, None)) == [5, None, None]
    assert vae.get_latent_size((1, 8, 8)) == [1, 1, 1]
    assert vae.out_channels == 4 and vae.dtype == torch.float32 and vae.device.type == "cpu"
    assert vae.frames_for_latents(15) == [51]
    assert vae.frames_for_latents(4) == [13, 14, 15, 16]


def test_full_size_has_upstream_names_and_shapes():
    upstream = {k: tuple(v) for k, v in json.loads((DATA / "upstream_param_shapes.json").read_text()).items()}
    assert len(upstream) == 517
    with torch.device("meta"):
        full = OpenSoraVAE(dict(OFFICIAL_SPATIAL_CONFIG), TemporalVAEConfig())
    ours = {k: tuple(v.shape) for k, v in full.state_dict().items()}
    assert sorted(ours) == sorted(upstream)
    assert ours == upstream
    # ... and the config is recovered from the shapes alone
    assert spatial_config_from_shapes(upstream) == OFFICIAL_SPATIAL_CONFIG
    assert infer_temporal_config(upstream) == TemporalVAEConfig()


# ---------------------------------------------------------------------------- options
def test_micro_batch_and_oom_fallback_keep_results(vae, tiny_file, monkeypatch):
    x = tiny_clip((1, 3, 9, 32, 48), 7)
    ref = vae.encode(x, sample=False)
    one = load_opensora_vae(tiny_file, micro_batch_size=None)
    assert rel_err(one.encode(x, sample=False), ref) < RTOL
    module = one.spatial_vae.module
    real, calls = module.encode, []

    def flaky(chunk):
        calls.append(chunk.shape[0])
        if chunk.shape[0] > 2:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(chunk)

    monkeypatch.setattr(module, "encode", flaky)
    assert rel_err(one.encode(x, sample=False), ref) < RTOL
    assert calls[:2] == [9, 4] and max(calls[2:]) <= 2  # halved until it fit


def test_tiling_option_runs(tiny_file):
    v = load_opensora_vae(tiny_file)
    v.enable_tiling(32)
    x = v.decode(tiny_latents((1, 4, 1, 8, 8), 9), num_frames=1)
    assert x.shape == (1, 3, 1, 64, 64) and torch.isfinite(x).all()


def test_cancel_between_chunks(vae):
    host.request_cancel()
    with pytest.raises(Cancelled):
        vae.decode(tiny_latents((1, 4, 6, 4, 6), 4), num_frames=20)
    host.clear_cancel()


def test_layout_variants_load_identically(vae, tmp_path):
    """``module.``-prefixed pickle with legacy attention names and no scale/shift buffers."""
    sd = tiny_vae_state_dict()
    legacy = {}
    for k, v in sd.items():
        if k in ("scale", "shift"):
            continue
        k = k.replace(".to_q.", ".query.").replace(".to_k.", ".key.").replace(".to_v.", ".value.")
        legacy["module." + k.replace(".to_out.0.", ".proj_attn.")] = v
    assert any(".query." in k for k in legacy)
    torch.save({"state_dict": legacy}, tmp_path / "ema.pt")
    other = load_opensora_vae(tmp_path / "ema.pt")
    z = tiny_latents((1, 4, 1, 4, 6), 5)
    assert torch.equal(other.decode(z, 1), vae.decode(z, 1))
    assert torch.equal(other.shift, vae.shift)


# ---------------------------------------------------------------------------- bad input
def test_missing_half_is_named(tmp_path):
    spatial_only = write_tiny_opensora_vae(tmp_path / "s.safetensors", parts=("spatial",))
    with pytest.raises(CheckpointError, match=r"only the spatial half.*temporal half \(temporal_vae\.\* tensors\) is missing"):
        load_opensora_vae(spatial_only)
    temporal_only = write_tiny_opensora_vae(tmp_path / "t.safetensors", parts=("temporal",))
    with pytest.raises(CheckpointError, match=r"only the temporal half.*spatial half .* is missing.*OpenSora-VAE-v1.2"):
        load_opensora_vae(temporal_only)


def test_other_family_is_named(tmp_path):
    image_vae = {k[len("spatial_vae.module."):]: v for k, v in tiny_vae_state_dict().items()
                 if k.startswith("spatial_vae.")}
    save_file(image_vae, str(tmp_path / "sdxl_vae.safetensors"))
    with pytest.raises(CheckpointError, match=r"not an Open-Sora VAE v1.2: it looks like image VAE \(AutoencoderKL\)"):
        load_opensora_vae(tmp_path / "sdxl_vae.safetensors")
    stdit = {"x_embedder.proj.weight": torch.zeros(8, 4, 1, 2, 2), "spatial_blocks.0.attn.qkv.weight": torch.zeros(1),
             "temporal_blocks.0.attn.qkv.weight": torch.zeros(1)}
    save_file(stdit, str(tmp_path / "stdit.safetensors"))
    with pytest.raises(CheckpointError, match=r"looks like Open-Sora ST-DiT \(STDiT3\)"):
        load_opensora_vae(tmp_path / "stdit.safetensors")


def test_incomplete_file_names_missing_tensors(tmp_path):
    sd = tiny_vae_state_dict()
    save_file({k: v for k, v in sd.items() if "temporal_vae.decoder.conv_out" not in k}, str(tmp_path / "a.safetensors"))
    with pytest.raises(CheckpointError, match=r"missing 2 tensors \(temporal_vae\.decoder\.conv_out\.conv\."):
        load_opensora_vae(tmp_path / "a.safetensors")
    save_file({k: v for k, v in sd.items() if "spatial_vae.module.decoder.conv_out" not in k}, str(tmp_path / "b.safetensors"))
    with pytest.raises(CheckpointError, match=r"incomplete \(no 'spatial_vae\.module\.decoder\.conv_out\.weight'\)"):
        load_opensora_vae(tmp_path / "b.safetensors")


def test_bad_sizes_give_valid_values(vae):
    with pytest.raises(MotionComicError, match=r"not a multiple of 8; use 32x48 or 40x48"):
        vae.encode(torch.zeros(1, 3, 1, 36, 48))
    with pytest.raises(MotionComicError, match=r"15 latent frames cannot decode to 50 frames; valid frame counts: 51"):
        vae.decode(torch.zeros(1, 4, 15, 2, 2), num_frames=50)
    with pytest.raises(MotionComicError, match=r"\[B,3,T,H,W\]"):
        vae.encode(torch.zeros(1, 4, 1, 32, 48))


def test_found_in_vae_or_opensora_folder(models_dir, tiny_file):
    from motioncomic.errors import ModelNotFoundError
    from motioncomic.loaders.opensora.vae import find_vae, list_vae_files

    (models_dir / "opensora" / "OpenSora-VAE-v1.2").mkdir(parents=True)
    (models_dir / "vae").mkdir()
    (models_dir / "opensora" / "OpenSora-VAE-v1.2" / "model.safetensors").symlink_to(tiny_file)
    (models_dir / "vae" / "opensora_vae_v1.2.safetensors").symlink_to(tiny_file)
    assert list_vae_files() == ["OpenSora-VAE-v1.2/model.safetensors", "opensora_vae_v1.2.safetensors"]
    assert find_vae("opensora_vae_v1.2.safetensors").endswith("vae/opensora_vae_v1.2.safetensors")
    folder = find_vae("OpenSora-VAE-v1.2")  # a downloaded repository folder works too
    assert load_opensora_vae(folder).get_latent_size((17, 32, 48)) == [5, 4, 6]
    with pytest.raises(ModelNotFoundError, match=r"'nope.safetensors' not found in models/opensora \(.*\), models/vae \(.*Available: OpenSora-VAE-v1.2.*hpcai-tech/OpenSora-VAE-v1.2"):
        find_vae("nope.safetensors")
