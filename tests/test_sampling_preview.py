"""Live previews while sampling (samplers/preview.py): ComfyUI's preview value sent with every
sampling step of CogVideoX and ST-DiT when ComfyUI asks for previews, nothing standalone; the
linear latent -> RGB maps and the least-squares fit that makes them."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import tiny_cogvideox as tc
import tiny_opensora
from motioncomic import host
from motioncomic.samplers import preview as P
from motioncomic.samplers.i2v import image_to_video


@pytest.fixture
def steps_seen(monkeypatch):
    """Every (step, preview) a host.Progress reports."""
    seen = []
    original = host.Progress.update_absolute

    def record(self, value, preview=None):
        seen.append((self.desc, value, preview))
        return original(self, value, preview)

    monkeypatch.setattr(host.Progress, "update_absolute", record)
    return seen


@pytest.fixture
def previews_on(monkeypatch):
    """As inside ComfyUI started with --preview-method auto --preview-size 256."""
    monkeypatch.setattr(host, "preview_settings", lambda: ("auto", 256))


@pytest.fixture(scope="module")
def cog(tmp_path_factory):
    from motioncomic.loaders.cogvideox import load_cogvideox

    d = tmp_path_factory.mktemp("cogprev") / "models"
    tc.install_for_workflows(d)
    host.set_models_dir(d)
    yield load_cogvideox(tc.WORKFLOW_MODEL, device="cpu", dtype="fp32")
    host.set_models_dir(None)


@pytest.fixture(scope="module")
def stdit(tmp_path_factory):
    from motioncomic.loaders.opensora.pipeline import load_opensora

    d = tmp_path_factory.mktemp("osprev") / "models"
    d.mkdir()
    tiny_opensora.install_for_workflows(d)
    host.set_models_dir(d)
    yield load_opensora(tiny_opensora.WORKFLOW_STDIT, tiny_opensora.WORKFLOW_VAE, tiny_opensora.WORKFLOW_T5,
                        device="cpu")
    host.set_models_dir(None)


def _sampler_steps(seen, desc):
    return [(v, p) for d, v, p in seen if d == desc]


def test_standalone_runs_send_no_previews_and_keep_step_progress(cog, steps_seen):
    assert host.preview_settings() == ("none", 0) and P.previewer_for("cogvideox") is None
    image_to_video(cog, torch.rand(1, 16, 16, 3), "she waves", num_frames=9, steps=3, cfg=6.0, seed=1)
    steps = _sampler_steps(steps_seen, "CogVideoX")
    assert [v for v, _ in steps] == [1, 2, 3] and all(p is None for _, p in steps)


def test_cogvideox_sends_a_preview_with_every_step(cog, steps_seen, previews_on, monkeypatch):
    channels = cog.components["vae"].config.latent_channels  # the tiny VAE's (the real one has 16)
    factors = np.random.default_rng(0).normal(scale=0.3, size=(channels, 3))
    monkeypatch.setattr(P, "COGVIDEOX_FACTORS", factors)
    res = image_to_video(cog, torch.rand(1, 16, 24, 3), "she waves", num_frames=9, steps=3, cfg=6.0, seed=1,
                         framing="stretch")
    steps = _sampler_steps(steps_seen, "CogVideoX")
    assert [v for v, _ in steps] == [1, 2, 3]
    h, w = res.plan.frame[0] // 8, res.plan.frame[1] // 8  # the VAE's 8x spatial compression
    for _, (fmt, image, size) in steps:
        assert fmt == "JPEG" and size == 256 and image.size == (w, h) and image.mode == "RGB"
    first, last = (np.asarray(p[1], np.float32) for p in (steps[0][1], steps[-1][1]))
    assert np.abs(first - last).mean() > 0.5  # the estimate changes while denoising


def test_stdit_preview_is_the_clean_estimate_and_the_last_one_is_the_result(stdit, steps_seen, previews_on,
                                                                            monkeypatch):
    """RFLOW's last step lands on its clean estimate: the last preview shows exactly the latents
    that get decoded."""
    from motioncomic.samplers import rflow

    seen_latents, final = [], {}
    original_call, original_sample = P.Previewer.__call__, rflow.sample_rflow

    def record(self, latents):
        seen_latents.append(latents.clone())
        return original_call(self, latents)

    def keep(*args, **kwargs):
        final["z"] = original_sample(*args, **kwargs)
        return final["z"]

    monkeypatch.setattr(P.Previewer, "__call__", record)
    monkeypatch.setattr(rflow, "sample_rflow", keep)
    image_to_video(stdit, torch.rand(1, 240, 180, 3), "she waves", num_frames=17, steps=2, seed=2,
                   options={"resolution": "144p"})
    steps = _sampler_steps(steps_seen, "Open-Sora RFLOW")
    assert len(steps) == 2 and all(p is not None and p[0] == "JPEG" for _, p in steps)
    assert len(seen_latents) == 2 and torch.allclose(seen_latents[-1], final["z"], atol=1e-5)
    mid = final["z"].shape[2] // 2
    want = P.latent_to_rgb(final["z"][0, :, mid], *P.opensora_factors())
    assert np.array_equal(np.asarray(steps[-1][1][1]), want) or \
        np.abs(np.asarray(steps[-1][1][1], np.int16) - want).max() <= 1


def test_factors_for_another_latent_size_send_no_preview():
    p = P.Previewer(P.COGVIDEOX_FACTORS, frame_axis=1)
    assert p(torch.zeros(1, 3, 16, 4, 4)) is not None and p(torch.zeros(1, 3, 8, 4, 4)) is None


def test_preview_method_none_inside_comfyui_means_no_previews(monkeypatch):
    monkeypatch.setattr(host, "preview_settings", lambda: ("none", 512))
    assert P.previewer_for("cogvideox") is None and P.previewer_for("opensora") is None
    monkeypatch.setattr(host, "preview_settings", lambda: ("taesd", 512))  # no TAESD for these VAEs
    assert isinstance(P.previewer_for("opensora"), P.Previewer)
    assert P.previewer_for("wan") is None  # a family without factors sends none


def test_latent_to_rgb_is_the_linear_map_in_comfyui_range():
    lat = torch.zeros(4, 2, 3)
    lat[0] = 1.0
    f = np.zeros((4, 3), np.float32)
    f[0] = (1.0, -1.0, 0.0)
    rgb = P.latent_to_rgb(lat, f, np.array([0.0, 0.0, 0.5], np.float32))
    assert rgb.shape == (2, 3, 3) and rgb.dtype == np.uint8
    assert tuple(rgb[0, 0]) == (255, 0, 191)  # (x + 1) / 2 * 255, clipped


def test_fit_factors_recovers_a_known_linear_decoder():
    rng = np.random.default_rng(0)
    f, b = rng.normal(size=(16, 3)) * 0.1, np.array([0.1, -0.2, 0.05])
    lat = rng.normal(size=(5000, 16))
    got_f, got_b = P.fit_factors(lat, lat @ f + b + rng.normal(scale=1e-3, size=(5000, 3)))
    assert np.abs(got_f - f).max() < 1e-3 and np.abs(got_b - b).max() < 1e-3


def test_opensora_factors_undo_the_normalisation_before_the_sdxl_map():
    """A normalised latent z gives the SDXL map of the spatial latent (z * scale + shift) rescaled
    from Open-Sora's 0.18215 to SDXL's 0.13025."""
    from motioncomic.loaders.opensora.vae import LATENT_SCALE, LATENT_SHIFT

    z = np.random.default_rng(1).normal(size=(4, 5, 6)).astype(np.float32)
    spatial = (z * np.asarray(LATENT_SCALE)[:, None, None] + np.asarray(LATENT_SHIFT)[:, None, None])
    spatial *= P.SDXL_SCALE / P.OPENSORA_SPATIAL_SCALE
    want = P.latent_to_rgb(spatial, np.asarray(P.SDXL_FACTORS, np.float32), np.asarray(P.SDXL_BIAS, np.float32))
    got = P.latent_to_rgb(z, *P.opensora_factors())
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1
    assert len(P.COGVIDEOX_FACTORS) == 16 and all(len(r) == 3 for r in P.COGVIDEOX_FACTORS)
