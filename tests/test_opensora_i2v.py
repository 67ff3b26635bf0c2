"""Open-Sora image-to-video end to end with tiny real parts (ST-DiT folder, VAE file, T5 single
file + tokenizer) through the shared entry and the nodes, plus buckets, captions and bad input."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import tiny_opensora

DATA = Path(__file__).parent / "data" / "opensora"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    d = tmp_path_factory.mktemp("os") / "models"
    d.mkdir()
    tiny_opensora.install_for_workflows(d)
    return d


@pytest.fixture
def model(installed):
    from motioncomic import host
    from motioncomic.loaders.opensora.pipeline import load_opensora

    host.set_models_dir(installed)
    yield load_opensora(tiny_opensora.WORKFLOW_STDIT, tiny_opensora.WORKFLOW_VAE, tiny_opensora.WORKFLOW_T5,
                        device="cpu")
    host.set_models_dir(None)


def test_image_to_video_end_to_end_through_the_nodes(model, characters):
    from PIL import Image

    from motioncomic.nodes import NODE_CLASS_MAPPINGS as _NODES

    MotionComicImageToVideo, MotionComicOpenSoraOptions = (_NODES["MotionComicImageToVideo"],
                                                           _NODES["MotionComicOpenSoraOptions"])

    assert model.family == "opensora" and model.name == "OpenSora-STDiT-v3" and model.text_tokens == 16
    src = sorted(p for p in characters.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"))[0]
    im = Image.open(src).convert("RGB")
    im.thumbnail((240, 240))
    import numpy as np

    image = torch.from_numpy(np.asarray(im, dtype=np.float32) / 255.0)[None]
    before = image.clone()
    (opts,) = MotionComicOpenSoraOptions().build("144p", "loop", 6.5, 3.0, "pan left", 24.0, True)
    frames, fps, report, _ = MotionComicImageToVideo().generate(
        model, image, "She waves, smiling!", "", 17, 2, 0.0, 3, "pad", "#000000", 0, False, options=opts)
    h, w = image.shape[1:3]
    assert frames.shape[0] == 17 and frames.shape[-1] == 3 and fps == 24.0
    # the content keeps the image's aspect (letterbox borders cropped off)
    assert abs(frames.shape[2] / frames.shape[1] - w / h) < 0.03
    assert float(frames.min()) >= 0 and float(frames.max()) <= 1 and torch.isfinite(frames).all()
    assert "motion score: 3.0. camera motion: pan left." in report and "cond loop" in report
    assert torch.equal(image, before)  # inputs are never mutated


def test_same_seed_same_latents_and_cond_frames_pinned(model):
    from motioncomic.samplers import framing
    from motioncomic.samplers.opensora import OpenSoraOptions, denoise, prepare

    img = torch.rand(1, 180, 320, 3, generator=torch.Generator().manual_seed(0))
    frame = framing.choose_frame(model.frame, (180, 320), "144p")
    framed = framing.apply_plan(img, framing.plan_frame((180, 320), frame))

    def run(seed, mode):
        opts = OpenSoraOptions.from_options(2, None, {"cond_frames": mode, "resolution": "144p"})
        prep = prepare(model, framed, "waves", 34, opts, torch.Generator().manual_seed(seed), [])
        return prep, denoise(model, prep, 34, opts)

    (p1, a), (_, b) = run(5, "first"), run(5, "first")
    assert a.shape == (1, 4, 10, frame[0] // 8, frame[1] // 8) and torch.equal(a, b)
    assert p1["nominal"] == (144, 256) and p1["frame_mask"].tolist() == [[False] + [True] * 9]
    assert torch.equal(a[:, :, 0], p1["ref"][:, :, 0]) and not torch.equal(a, run(6, "first")[1])
    p3, c = run(5, "loop")
    assert p3["frame_mask"][0, 0].item() is False and p3["frame_mask"][0, -1].item() is False
    assert torch.equal(c[:, :, -1], p3["ref"][:, :, 0]) and torch.equal(c[:, :, 0], p3["ref"][:, :, 0])


def test_bad_inputs_have_actionable_messages(model):
    from motioncomic.errors import MotionComicError
    from motioncomic.samplers.i2v import image_to_video

    img = torch.rand(1, 200, 320, 3)
    with pytest.raises(MotionComicError, match=r"50 frames .* Nearest valid: 34 or 51"):
        image_to_video(model, img, "waves", num_frames=50, steps=1)
    with pytest.raises(MotionComicError, match=r"smaller than the smallest Open-Sora bucket.*192x192"):
        image_to_video(model, torch.rand(1, 100, 90, 3), "waves", num_frames=17, steps=1)
    with pytest.raises(MotionComicError, match="cond_frames 'middle' is unknown"):
        image_to_video(model, img, "waves", num_frames=17, steps=1, options={"cond_frames": "middle"})
    with pytest.raises(MotionComicError, match="resolution '4k' is unknown"):
        image_to_video(model, img, "waves", num_frames=17, steps=1, options={"resolution": "4k"})


def test_long_prompt_is_trimmed_and_reported(model):
    from motioncomic.loaders.opensora.text import encode_captions

    enc, tok = model.components["text_encoder"], model.components["tokenizer"]
    long = " ".join(["the girl waves her hand and smiles"] * 10)
    out = encode_captions(enc, tok, [long], max_length=16)
    assert out.tokens > 16 and out.trimmed and tuple(out.y.shape) == (1, 1, 16, 32)
    assert out.y.dtype == torch.float32 and int(out.mask.sum()) == 16
    short = encode_captions(enc, tok, ["waves"], max_length=16)
    assert short.trimmed == "" and 0 < int(short.mask.sum()) < 16  # padding kept out by the mask


def test_loader_refuses_wrong_parts(installed, tmp_path):
    from motioncomic import host
    from motioncomic.errors import CheckpointError, ModelNotFoundError
    from motioncomic.loaders.opensora.pipeline import load_opensora

    host.set_models_dir(installed)
    try:
        with pytest.raises(CheckpointError, match="Open-Sora VAE"):  # the VAE chosen as the ST-DiT
            load_opensora(tiny_opensora.WORKFLOW_VAE, tiny_opensora.WORKFLOW_VAE, tiny_opensora.WORKFLOW_T5, device="cpu")
        with pytest.raises(ModelNotFoundError, match="models/opensora"):
            load_opensora("nope.safetensors", tiny_opensora.WORKFLOW_VAE, tiny_opensora.WORKFLOW_T5, device="cpu")
    finally:
        host.set_models_dir(None)


def test_captions_cleaned_like_upstream():
    from motioncomic.loaders.opensora.text import prepare_caption

    cases = json.loads((DATA / "captions.json").read_text(encoding="utf-8"))
    for c in cases:
        assert prepare_caption(c["prompt"], c["aesthetic"], c["motion"], c["camera"]) == c["cleaned"], c["prompt"]


def test_bucket_table_and_choice():
    from motioncomic.loaders.opensora import aspect
    from motioncomic.samplers.framing import choose_frame

    assert list(aspect.BUCKETS) == ["144p", "240p", "360p", "480p", "720p", "1080p"]
    assert all(len(v) == 17 for v in aspect.BUCKETS.values())
    assert aspect.BUCKETS["720p"]["0.56"] == (720, 1280) and aspect.BUCKETS["480p"]["1.00"] == (640, 640)
    spec = aspect.frame_spec()
    assert choose_frame(spec, (1080, 1920), "720p") == (720, 1280)
    assert choose_frame(spec, (1200, 800), "480p") == (784, 520)  # 2:3 portrait, floored to 8
    assert aspect.nominal_size((784, 520), "480p") == (784, 522)
    for frames in spec.buckets.values():
        assert all(h % 8 == 0 and w % 8 == 0 for h, w in frames)
    assert [aspect.latent_frames(n) for n in (17, 34, 51, 102, 1)] == [5, 10, 15, 30, 1]


def test_registry_dispatches_stdit_by_its_tensors(installed):
    from motioncomic import host
    from motioncomic.loaders.registry import detect_family, load_video_model

    folder = installed / "opensora" / Path(tiny_opensora.WORKFLOW_STDIT).parent
    assert detect_family(folder) == "opensora"
    assert detect_family(folder / "model.safetensors") == "opensora"
    host.set_models_dir(installed)
    try:
        m = load_video_model(folder, vae=tiny_opensora.WORKFLOW_VAE, t5=tiny_opensora.WORKFLOW_T5, device="cpu")
    finally:
        host.set_models_dir(None)
    assert m.family == "opensora" and m.frame.kind == "buckets" and m.frame_counts.default == 51


def test_a_described_model_refuses_bad_settings_before_reading_weights(installed):
    from motioncomic import host
    from motioncomic.errors import MotionComicError
    from motioncomic.loaders.registry import load_video_model
    from motioncomic.samplers.i2v import image_to_video

    host.set_models_dir(installed)
    try:
        folder = installed / "opensora" / Path(tiny_opensora.WORKFLOW_STDIT).parent
        vm = load_video_model(folder, vae=tiny_opensora.WORKFLOW_VAE, t5=tiny_opensora.WORKFLOW_T5, device="cpu",
                              defer=True)
        assert not vm.loaded
        for options, said in (({"cond_frames": "middle"}, "cond_frames 'middle' is unknown"),
                              ({"camera_motion": "barrel roll"}, "camera motion 'barrel roll' is unknown")):
            with pytest.raises(MotionComicError, match=said):
                image_to_video(vm, torch.rand(1, 180, 320, 3), "waves", num_frames=17, steps=1,
                               options={"resolution": "144p", **options})
        assert not vm.loaded  # the settings were checked before any weight was read
    finally:
        host.set_models_dir(None)
