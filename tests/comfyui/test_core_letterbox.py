"""Opt-in: our letterbox around core ComfyUI's Wan 2.2 TI2V-5B image-to-video, on the real server.

Core detects the tiny Wan 2.2 diffusion model (``tests/tiny_core_wan.py``) but builds the Wan 2.2 VAE
and UMT5-XXL from fixed full-size configs, so the shipped ``motioncomic_wan22_letterbox`` graph is
validated against the live node definitions (``test_real_comfyui.py``, ``test_frontend_extension.py``)
and, here:

- the tiny diffusion model goes through core's own loader (``comfy.sd.load_diffusion_model``, as
  ``UNETLoader``) and sampler at the letterbox frames of a 3:4 portrait and a 21:9 banner;
- the shipped graph's letterbox nodes run on the server around the core image path the Wan node
  applies to its start image (``ImageScale`` to width/height with a centre crop, as
  ``Wan22ImageToVideoLatent``'s ``common_upscale``) and core CreateVideo/SaveVideo; the saved clip
  has the source's aspect within one pixel and shows the whole character.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import tiny_core_wan

pytestmark = [
    pytest.mark.comfyui,
    pytest.mark.skipif(not os.environ.get("COMFYUI_DIR"), reason="COMFYUI_DIR not set (opt-in real-ComfyUI suite)"),
]

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "workflows" / "api" / "motioncomic_wan22_letterbox.json"
SOURCES = {"3:4 portrait": (1024, 768), "21:9 banner": (1080, 2520)}  # (height, width)

def _frames() -> dict[str, tuple[int, int]]:
    from motioncomic.samplers.letterbox import choose_preset_frame, preset

    p = preset(json.loads(SHIPPED.read_text())["2"]["inputs"]["preset"])
    return {k: choose_preset_frame(p, size) for k, size in SOURCES.items()}


def test_core_loads_and_samples_the_tiny_wan22_at_the_letterbox_frames(server, tmp_path):
    url, base = server
    unet = base / "models" / "diffusion_models" / tiny_core_wan.CORE_UNET
    frames = _frames()
    script = tmp_path / "core_wan.py"
    script.write_text(
        "import json, sys\n"
        "unet, frames = sys.argv[1], json.loads(sys.argv[2])\n"
        "sys.argv = [sys.argv[0], '--cpu']\n"
        "import comfy.options; comfy.options.enable_args_parsing()\n"
        "import comfy.cli_args\n"
        "import torch, comfy.sd, comfy.sample\n"
        "m = comfy.sd.load_diffusion_model(unet)\n"
        "out = {'config': type(m.model.model_config).__name__, 'latent': type(m.model.latent_format).__name__,\n"
        "       'channels': m.model.latent_format.latent_channels, 'samples': {}}\n"
        "cond = [[torch.randn(1, 8, 4096, generator=torch.Generator().manual_seed(0)), {}]]\n"
        "for k, (h, w) in frames.items():\n"
        "    lat = torch.zeros(1, 48, 2, h // 16, w // 16)\n"
        "    noise = torch.randn(lat.shape, generator=torch.Generator().manual_seed(1))\n"
        "    s = comfy.sample.sample(m, noise, 1, 1.0, 'euler', 'simple', cond, cond, lat)\n"
        "    out['samples'][k] = [list(s.shape), bool(torch.isfinite(s).all())]\n"
        "print('RESULT' + json.dumps(out))\n")
    proc = subprocess.run([os.environ.get("COMFYUI_PYTHON", "python3"), str(script), str(unet), json.dumps(frames)],
                          cwd=os.environ["COMFYUI_DIR"], capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.environ["COMFYUI_DIR"]))
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT")), None)
    assert line, proc.stdout[-2000:] + proc.stderr[-3000:]
    out = json.loads(line[len("RESULT"):])
    assert (out["config"], out["latent"], out["channels"]) == ("WAN22_T2V", "Wan22", 48)
    for k, (h, w) in frames.items():
        shape, finite = out["samples"][k]
        assert shape == [1, 48, 2, h // 16, w // 16] and finite, (k, shape)


def _around_core_image_path(shipped: dict, image: str, prefix: str) -> dict:
    """The shipped graph with its model section (encode, sample, decode) replaced by core's resize of
    the start image to the frame and a 5-frame batch of it; the letterbox and video nodes as shipped."""
    g = {k: json.loads(json.dumps(shipped[k])) for k in ("1", "2", "12", "13", "14")}
    g["1"]["inputs"]["image"] = image
    g["20"] = {"class_type": "ImageScale", "inputs": {"image": ["2", 0], "upscale_method": "bilinear",
                                                      "width": ["2", 1], "height": ["2", 2], "crop": "center"}}
    g["21"] = {"class_type": "RepeatImageBatch", "inputs": {"image": ["20", 0], "amount": 5}}
    g["12"]["inputs"]["images"] = ["21", 0]
    g["14"]["inputs"]["filename_prefix"] = prefix
    return g


@pytest.mark.parametrize("name", list(SOURCES))
def test_letterbox_around_the_core_wan_graph_keeps_the_aspect(name, server, server_log, tmp_path):
    from PIL import Image

    from motioncomic.media.video import probe_video, read_video
    from motioncomic.remote.comfy_api import ComfyClient

    url, base = server
    h, w = SOURCES[name]
    chars = sorted((ROOT / "tests" / "data" / "characters").glob("*.png"))
    src = Image.open(chars[0]).convert("RGB").resize((w, h), Image.BICUBIC)  # any image of that size
    fname = f"letterbox_{w}x{h}.png"
    src.save(base / "input" / fname)
    prompt = _around_core_image_path(json.loads(SHIPPED.read_text()), fname, f"letterbox_test/{w}x{h}")
    try:
        result = ComfyClient(url, timeout=120).run(prompt, tmp_path, timeout=600)
    except Exception as exc:
        pytest.fail(f"{name}: {exc}\n--- server log ---\n{server_log()}")
    clips = [f for f in result.files if f.suffix == ".mp4"]
    assert clips, result.outputs
    info = probe_video(clips[0])
    ow, oh = info["size"]
    assert info["frames"] == 5
    # the clip has the source's aspect within one pixel (content rounding + even sizes for H.264)
    assert abs(ow - oh * w / h) <= 1 or abs(oh - ow * h / w) <= 1, (name, (ow, oh), (w, h))
    from motioncomic.samplers.framing import plan_letterbox

    c = plan_letterbox((h, w), _frames()[name]).content
    assert (ow, oh) == (c.w // 2 * 2, c.h // 2 * 2)  # the plan's character box, even for H.264
    frame0 = read_video(clips[0])[0][0]
    want = np.asarray(src.resize((ow, oh), Image.BICUBIC), dtype=np.float32) / 255.0
    assert np.abs(frame0 - want).mean() < 0.05  # whole character, no border
