"""Regenerate tests/data/rife/expected_*.safetensors by running the UPSTREAM RIFE code (not ours).

Upstream code is not in this repository. Bring it to a scratch folder first:

* Practical-RIFE (hzwer), commit f7edc95: ``train_log/IFNet_HDv3.py`` and ``model/warplayer.py`` into
  ``<UP>/pr/train_log/`` and ``<UP>/pr/model/`` (empty ``__init__.py`` in both). That commit's
  IFNet is the 4.26.heavy layout (Head 16->16, 5 blocks).
* vs-rife (HolyWu), per-release copies of Practical-RIFE's ``IFNet_HDv3.py``: its ``vsrife/IFNet_HDv3_v4_*.py``
  and ``warplayer.py`` into ``<UP>/vsrife/`` with an empty ``__init__.py`` (its own imports vapoursynth).
* optional cross-check, ComfyUI-Frame-Interpolation's ``vfi_models/rife/rife_arch.py`` (the code the
  ``rife4x.pth`` files are used with) as ``<UP>/cfi/rife_arch.py``.

Then ``python tests/data/rife/make_expected.py <UP>`` (CPU, float32, ~1 min). Weights come from
``tiny_sgm_vfi.seeded_init`` (by parameter name and shape, so upstream's module and ours get the same
values) and frames from ``tiny_sgm_vfi.make_frames`` (closed form). Only the outputs are saved, plus
``upstream_shapes.json`` (tensor names and shapes of every upstream IFNet 4.6+).
"""
from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # tests/
import conftest  # noqa: E402,F401  (imports the pack as motioncomic)
from tiny_sgm_vfi import make_frames, seeded_init  # noqa: E402

from motioncomic.interpolation.rife.layouts import BY_LABEL  # noqa: E402
from motioncomic.interpolation.rife.network import IFNet  # noqa: E402

#: case -> (layout label, upstream, height, width, t, scale, ensemble, seed)
CASES = {
    "v46_a": ("4.6", "vsrife:4_6", 32, 64, 0.5, 1.0, False, 11),
    "v46_b": ("4.6", "vsrife:4_6", 64, 96, 0.3, 1.0, True, 12),
    "v47_a": ("4.7-4.9", "vsrife:4_7", 32, 64, 0.5, 1.0, False, 21),
    "v47_b": ("4.7-4.9", "vsrife:4_7", 64, 96, 0.7, 1.0, True, 22),
    "v47_s05": ("4.7-4.9", "vsrife:4_7", 64, 64, 0.5, 0.5, False, 23),
    "v417_a": ("4.13-4.19/4.24", "vsrife:4_17", 64, 96, 0.25, 1.0, False, 31),
    "v417_b": ("4.13-4.19/4.24", "vsrife:4_17", 32, 64, 0.5, 1.0, True, 32),
    "v426_a": ("4.25/4.26", "vsrife:4_26", 64, 64, 0.5, 1.0, False, 41),
    "v426_b": ("4.25/4.26", "vsrife:4_26", 64, 128, 0.4, 1.0, False, 42),
    "v426h_a": ("4.26.heavy", "practical", 64, 64, 0.5, 1.0, False, 51),
    "v426h_s2": ("4.26.heavy", "practical", 128, 64, 0.6, 2.0, False, 52),
}


def frames(h: int, w: int):
    a, b = make_frames(h, w, shift=(5.0, -3.0))
    return (torch.from_numpy(x).permute(2, 0, 1)[None].contiguous() for x in (a, b))


def run_vsrife(up: Path, mod: str, net_ours: IFNet, img0, img1, t, scale, ensemble):
    sys.path.insert(0, str(up))
    m = importlib.import_module(f"vsrife.IFNet_HDv3_v{mod}")
    net = m.IFNet(scale, ensemble).eval()
    seeded_init(net, 0)
    net.load_state_dict(net_ours.state_dict())  # same names: proves it and copies the seeded values
    _, _, h, w = img0.shape
    div = torch.tensor([(w - 1.0) / 2.0, (h - 1.0) / 2.0])
    gx = torch.linspace(-1.0, 1.0, w).view(1, 1, 1, w).expand(-1, -1, h, -1)
    gy = torch.linspace(-1.0, 1.0, h).view(1, 1, h, 1).expand(-1, -1, -1, w)
    grid = torch.cat([gx, gy], 1)
    ts = torch.full([1, 1, h, w], t)
    if hasattr(net, "encode"):
        return net(img0, img1, ts, div, grid, net.encode(img0), net.encode(img1))
    return net(img0, img1, ts, div, grid)


def run_practical(up: Path, net_ours: IFNet, img0, img1, t, scale):
    sys.path.insert(0, str(up / "pr"))
    m = importlib.import_module("train_log.IFNet_HDv3")
    net = m.IFNet().eval()
    net.load_state_dict(net_ours.state_dict())
    scale_list = [16 / scale, 8 / scale, 4 / scale, 2 / scale, 1 / scale]  # RIFE_HDv3.inference
    _, _, merged = net(torch.cat((img0, img1), 1), t, scale_list)
    return merged[-1]


def _cfi(up: Path):
    """ComfyUI-Frame-Interpolation's rife_arch, with the one ComfyUI call it makes at import stubbed."""
    comfy = types.ModuleType("comfy")
    mm = types.ModuleType("comfy.model_management")
    mm.get_torch_device = lambda: torch.device("cpu")
    sys.modules.update({"comfy": comfy, "comfy.model_management": mm})
    sys.path.insert(0, str(up / "cfi"))
    return importlib.import_module("rife_arch")


def run_cfi(up: Path, arch: str, net_ours: IFNet, img0, img1, t, scale, ensemble):
    net = _cfi(up).IFNet(arch_ver=arch).eval()
    net.load_state_dict(net_ours.state_dict())
    five = arch == "4.26"
    sl = [s / scale for s in ((16, 8, 4, 2, 1) if five else (8, 4, 2, 1))]
    return net(img0, img1, t, sl, training=False, fastmode=True, ensemble=ensemble)


VSRIFE_VERSIONS = ("4_6", "4_7", "4_8", "4_9", "4_10", "4_11", "4_12", "4_12_lite", "4_13", "4_13_lite", "4_14",
                   "4_14_lite", "4_15", "4_15_lite", "4_16_lite", "4_17", "4_17_lite", "4_18", "4_19", "4_20", "4_21",
                   "4_22", "4_22_lite", "4_23", "4_24", "4_25", "4_25_lite", "4_25_heavy", "4_26", "4_26_heavy")


def upstream_shapes(up: Path) -> dict:
    """Tensor shapes of every upstream IFNet 4.6+ (vs-rife's copies, Practical-RIFE's own, and the
    arch_ver layouts of ComfyUI-Frame-Interpolation that its rife4x.pth files load into)."""
    sys.path.insert(0, str(up))
    out = {}
    for v in VSRIFE_VERSIONS:
        m = importlib.import_module(f"vsrife.IFNet_HDv3_v{v}")
        with torch.device("meta"):
            net = m.IFNet(1.0, False)
        out[f"vs-rife {v.replace('_', '.', 1).replace('_', '.')}"] = {k: list(t.shape) for k, t in net.state_dict().items()}
    sys.path.insert(0, str(up / "pr"))
    with torch.device("meta"):
        net = importlib.import_module("train_log.IFNet_HDv3").IFNet()
    out["Practical-RIFE f7edc95"] = {k: list(t.shape) for k, t in net.state_dict().items()}
    if (up / "cfi" / "rife_arch.py").is_file():
        arch = _cfi(up)
        for ver in ("4.6", "4.7", "4.17", "4.26"):
            with torch.device("meta"):
                net = arch.IFNet(arch_ver=ver)
            out[f"ComfyUI-Frame-Interpolation {ver}"] = {k: list(t.shape) for k, t in net.state_dict().items()}
    return out


def main(up: Path) -> None:
    import json

    from safetensors.torch import save_file

    (HERE / "upstream_shapes.json").write_text(json.dumps(upstream_shapes(up), separators=(",", ":"), sort_keys=True))

    for case, (label, upstream, h, w, t, scale, ens, seed) in CASES.items():
        ours = IFNet(BY_LABEL[label]).eval()
        seeded_init(ours, seed)
        img0, img1 = frames(h, w)
        with torch.no_grad():
            if upstream == "practical":
                ref = run_practical(up, ours, img0, img1, t, scale)
            else:
                ref = run_vsrife(up, upstream.split(":")[1], ours, img0, img1, t, scale, ens)
            mine, _ = ours(img0, img1, t, scale, ens)
            cfi_arch = {"4.7-4.9": "4.7", "4.25/4.26": "4.26", "4.13-4.19/4.24": "4.17"}.get(label)
            note = ""
            if cfi_arch and (up / "cfi" / "rife_arch.py").is_file() and h % 64 == 0 and w % 64 == 0:
                other = run_cfi(up, cfi_arch, ours, img0, img1, t, scale, ens)
                note = f", ComfyUI-Frame-Interpolation differs by {(other - ref).abs().max().item():.2e}"
        rel = ((mine - ref).abs().max() / ref.abs().max()).item()
        print(f"{case}: {label} {h}x{w} t={t} scale={scale} ensemble={ens}: ours vs upstream {rel:.2e}{note}")
        save_file({"pred": ref.contiguous()}, str(HERE / f"expected_{case}.safetensors"),
                  metadata={"layout": label, "upstream": upstream, "height": str(h), "width": str(w), "t": str(t),
                            "scale": str(scale), "ensemble": str(int(ens)), "seed": str(seed)})


if __name__ == "__main__":
    main(Path(sys.argv[1]))
