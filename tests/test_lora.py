"""CogVideoX LoRA layer: the layouts LoRAs are shared in read to the same update diffusers/PEFT
applies, strength 0 = no LoRA exactly, strength changes and chains without touching the base
model, fused = unfused (base weights restored bit-exactly), every offload mode and bf16, and the
refusals (another base, unknown/missing keys, bad strength, DoRA, not a LoRA)."""
from __future__ import annotations

import copy
import math

import pytest
import torch

import tiny_cogvideox as tc
import tiny_lora as tl
from motioncomic import host
from motioncomic.errors import CheckpointError, MotionComicError
from motioncomic.loaders.cogvideox import load_cogvideox
from motioncomic.loaders.lora import lora_applied, lora_choices, read_lora, resolve_lora, with_lora
from motioncomic.samplers.i2v import image_to_video

PROMPT = "a girl waves her hand"
RUN = dict(num_frames=9, steps=2, cfg=6.0, seed=3, framing="stretch")


@pytest.fixture(scope="module")
def mdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("lora") / "models"
    tc.install_for_workflows(d)
    host.set_models_dir(d)
    yield d
    host.set_models_dir(None)


@pytest.fixture(scope="module")
def vm(mdir):
    return load_cogvideox(tc.WORKFLOW_MODEL, device="cpu", dtype="fp32")


@pytest.fixture(scope="module")
def files(mdir, vm):
    layers = tl.random_layers(vm.components["transformer"], rank=4)
    return {
        "layers": layers,
        "diffusers": tl.write_diffusers_lora(mdir / "loras" / "style.safetensors", layers, alpha=2.0),
        "kohya": tl.write_kohya_lora(mdir / "CogVideo" / "loras" / "style_kohya.safetensors", layers, alpha=2.0),
        "noalpha": tl.write_diffusers_lora(mdir / "loras" / "noalpha.safetensors", layers),
    }


def _image():
    return torch.rand(1, 16, 16, 3, generator=torch.Generator().manual_seed(5))


def _forward(vm, transformer=None):
    tr = transformer or vm.components["transformer"]
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 3, 8, 2, 2, generator=g)
    text = torch.randn(1, tc.TEXT_TOKENS, tc.T5_DIM, generator=g)
    with torch.no_grad():
        return tr(hidden_states=x, encoder_hidden_states=text, timestep=torch.tensor([500]), return_dict=False)[0]


def test_choices_and_layouts_agree(vm, files):
    assert "style.safetensors" in lora_choices() and "CogVideo/loras/style_kohya.safetensors" in lora_choices()
    a = read_lora(resolve_lora("style.safetensors"))
    b = read_lora(resolve_lora("CogVideo/loras/style_kohya.safetensors"))
    assert (a.layout, b.layout, a.rank) == ("diffusers", "kohya", 4)
    for layer in (*a.layers.values(), *b.layers.values()):
        assert layer.scale == 0.5  # alpha 2 / rank 4
    assert read_lora(files["noalpha"]).layers[next(iter(files["layers"]))].scale == 1.0
    outs = []
    for f in (files["diffusers"], files["kohya"]):
        m = with_lora(vm, read_lora(f), 0.8)
        with lora_applied(m):
            outs.append(_forward(m))
    assert torch.equal(outs[0], outs[1])


def test_matches_diffusers_peft_adapter(vm, files):
    """Our hooks give the update diffusers' own LoRA loading gives (alpha from its metadata)."""
    pytest.importorskip("peft")
    from diffusers import CogVideoXImageToVideoPipeline

    ref = copy.deepcopy(vm.components["transformer"])
    c = vm.components
    pipe = CogVideoXImageToVideoPipeline(tokenizer=c["tokenizer"], text_encoder=c["text_encoder"], vae=c["vae"],
                                         transformer=ref, scheduler=tc.build_scheduler())
    pipe.load_lora_weights(str(files["diffusers"]), adapter_name="style")
    pipe.set_adapters(["style"], [0.8])
    assert ref.transformer_blocks[0].attn1.to_q.scaling["style"] == 0.5 * 0.8  # alpha / rank x weight
    want = _forward(vm, ref)
    m = with_lora(vm, read_lora(files["diffusers"]), 0.8)
    with lora_applied(m):
        got = _forward(m)
    base = _forward(vm)
    assert not torch.allclose(got, base, atol=1e-3)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_strength_zero_equals_no_lora_and_base_untouched(vm, files):
    before = {k: v.clone() for k, v in vm.components["transformer"].state_dict().items()}
    lora = read_lora(files["diffusers"])
    plain = image_to_video(vm, _image(), PROMPT, **RUN).frames
    zero = image_to_video(with_lora(vm, lora, 0.0), _image(), PROMPT, **RUN).frames
    assert torch.equal(plain, zero)
    one = image_to_video(with_lora(vm, lora, 1.0, fuse=True), _image(), PROMPT, **RUN).frames
    assert not torch.equal(one, plain)
    assert vm.loras == () and "loras" not in vm.info  # the input model is not changed
    for k, v in vm.components["transformer"].state_dict().items():
        assert torch.equal(v, before[k]), k
    base = _forward(vm)
    strengths = [_forward_with(with_lora(vm, lora, s)) for s in (0.5, 1.0)]
    assert not torch.equal(strengths[0], strengths[1]) and not torch.equal(strengths[0], base)
    assert torch.equal(_forward(vm), base)


def _forward_with(model):
    with lora_applied(model):
        return _forward(model)


def test_chain_and_fuse(vm, files):
    lora = read_lora(files["diffusers"])
    both = with_lora(with_lora(vm, lora, 0.5), lora, 0.3)
    assert len(both.loras) == 2 and len(both.info["loras"]) == 2
    single = _forward_with(with_lora(vm, lora, 0.8))
    torch.testing.assert_close(_forward_with(both), single, atol=1e-5, rtol=1e-5)
    before = {k: v.clone() for k, v in vm.components["transformer"].state_dict().items()}
    torch.testing.assert_close(_forward_with(with_lora(vm, lora, 0.8, fuse=True)), single, atol=1e-5, rtol=1e-5)
    for k, v in vm.components["transformer"].state_dict().items():
        assert torch.equal(v, before[k]), k  # restored bit-exactly


def _variant_model(vm, transformer, **changes):
    import dataclasses

    return dataclasses.replace(vm, components={**vm.components, "transformer": transformer}, **changes)


def test_sequential_offload(vm, files):
    """Under accelerate's sequential offload the weights live in the hook's CPU map; hooks and
    fusing both work there and the streamed weights are restored."""
    from accelerate import cpu_offload

    lora = read_lora(files["diffusers"])
    want = _forward_with(with_lora(vm, lora, 1.0))
    tr = copy.deepcopy(vm.components["transformer"])
    cpu_offload(tr, execution_device=torch.device("cpu"))
    seq = _variant_model(vm, tr, offload="sequential")
    base = _forward(seq)
    for fuse in (False, True):
        torch.testing.assert_close(_forward_with(with_lora(seq, lora, 1.0, fuse=fuse)), want, atol=1e-5, rtol=1e-5)
    assert torch.equal(_forward(seq), base)


def test_bf16(vm, files):
    tr = copy.deepcopy(vm.components["transformer"]).to(torch.bfloat16)
    m16 = _variant_model(vm, tr, dtype=torch.bfloat16)
    lora = read_lora(files["diffusers"])

    def fwd(model):
        g = torch.Generator().manual_seed(0)
        x = torch.randn(1, 3, 8, 2, 2, generator=g).bfloat16()
        text = torch.randn(1, tc.TEXT_TOKENS, tc.T5_DIM, generator=g).bfloat16()
        with lora_applied(model), torch.no_grad():
            return tr(hidden_states=x, encoder_hidden_states=text, timestep=torch.tensor([500]), return_dict=False)[0]

    plain = fwd(m16)
    assert torch.equal(fwd(with_lora(m16, lora, 0.0)), plain)
    want = _forward_with(with_lora(vm, lora, 1.0))
    for fuse in (False, True):
        out = fwd(with_lora(m16, lora, 1.0, fuse=fuse))
        assert out.dtype == torch.bfloat16 and not torch.equal(out, plain)
        torch.testing.assert_close(out.float(), want, atol=0.1, rtol=0.05)  # bf16 rounding
    assert torch.equal(fwd(m16), plain)


@pytest.mark.parametrize("bad", [float("nan"), 10.5, -11, math.inf])
def test_bad_strength(vm, files, bad):
    with pytest.raises(MotionComicError, match="between -10 and 10"):
        with_lora(vm, read_lora(files["diffusers"]), bad)


def test_lora_for_another_base_is_refused(tmp_path, vm):
    wide = tc.build_transformer("1.0-i2v", attention_head_dim=24)  # 48 wide instead of 32
    path = tl.write_diffusers_lora(tmp_path / "wide.safetensors", tl.random_layers(wide))
    with pytest.raises(MotionComicError, match=r"does not fit CogVideoX 1.0-i2v \(32 wide, 1 blocks\).*other shapes.*"
                                               r"48->48.*made for a CogVideoX transformer 48 wide"):
        with_lora(vm, read_lora(path), 1.0)
    deep = tc.build_transformer("1.0-i2v", num_layers=3)
    path = tl.write_diffusers_lora(tmp_path / "deep.safetensors", tl.random_layers(deep))
    with pytest.raises(MotionComicError, match=r"layers this model does not have, e.g. transformer_blocks.1.attn1"
                                               r".*at least 3 blocks"):
        with_lora(vm, read_lora(path), 1.0)
    meta = tl.write_diffusers_lora(tmp_path / "for15.safetensors", tl.random_layers(vm.components["transformer"]),
                                   extra_meta={"motioncomic.base": "cogvideox-1.5-i2v"})
    with pytest.raises(MotionComicError, match="made for CogVideoX 1.5-i2v.*this model is CogVideoX 1.0-i2v"):
        with_lora(vm, read_lora(meta), 1.0)


def test_broken_files_are_refused(tmp_path, vm):
    from safetensors.torch import save_file

    layers = tl.random_layers(vm.components["transformer"])
    sd = {f"transformer.{m}.lora_A.weight": d for m, (d, u) in layers.items()}
    save_file(sd, str(tmp_path / "half.safetensors"))
    with pytest.raises(CheckpointError, match="miss half of their pair, e.g. transformer_blocks.0.attn1.to_"):
        read_lora(tmp_path / "half.safetensors")
    save_file({**sd, "transformer.x.lora_magnitude_vector": torch.ones(3)}, str(tmp_path / "dora.safetensors"))
    with pytest.raises(CheckpointError, match="DoRA"):
        read_lora(tmp_path / "dora.safetensors")
    tc.write_transformer_file(tmp_path / "model.safetensors")
    with pytest.raises(CheckpointError, match="keys that are not LoRA weights, e.g. "):
        read_lora(tmp_path / "model.safetensors")
    d, u = next(iter(layers.values()))
    save_file({"transformer.transformer_blocks.0.attn1.to_q.lora_A.weight": d,
               "transformer.transformer_blocks.0.attn1.to_q.lora_B.weight": u[:, :2].contiguous()},
              str(tmp_path / "rank.safetensors"))
    with pytest.raises(CheckpointError, match="rank layout does not pair up"):
        read_lora(tmp_path / "rank.safetensors")
    with pytest.raises(MotionComicError, match="models/loras/ or models/CogVideo/loras/"):
        resolve_lora("nothere.safetensors")


def test_lora_on_a_described_model_loads_the_base_once(mdir, files):
    """The loader node hands out a described model (weights read by the sampler); the LoRA node after
    it must not make the sampler load a second copy: loading the LoRA model loads the base."""
    from motioncomic.loaders.registry import load_video_model

    described = load_video_model(tc.WORKFLOW_MODEL, device="cpu", dtype="fp32", defer=True)
    assert not described.loaded
    lora = read_lora(files["diffusers"])
    tuned = with_lora(described, lora, 1.0)
    zero = with_lora(described, lora, 0.0)
    assert not described.loaded  # the LoRA node did not load anything
    out = image_to_video(tuned, _image(), PROMPT, **RUN).frames
    assert described.loaded and tuned.components["transformer"] is described.components["transformer"]
    assert torch.equal(image_to_video(zero, _image(), PROMPT, **RUN).frames, image_to_video(described, _image(), PROMPT, **RUN).frames)
    assert not torch.equal(out, image_to_video(described, _image(), PROMPT, **RUN).frames)
