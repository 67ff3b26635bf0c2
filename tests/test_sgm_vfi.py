"""SGM-VFI port: faithfulness to upstream, pure-torch splatting, checkpoint loading, interpolator.

Expected outputs in tests/data/sgm_vfi/ come from the upstream implementation (its cupy splatting
replaced by a CPU equivalent) run on this machine with the weights of ``tiny_sgm_vfi.seeded_init``
and the frames of ``tiny_sgm_vfi.make_frames``.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from motioncomic.errors import CheckpointError, ModelNotFoundError, MotionComicError
from motioncomic.interpolation.base import Interpolator
from motioncomic.interpolation.sgm_vfi.loader import load_sgm_vfi
from motioncomic.interpolation.sgm_vfi.network import BASE, SMALL, SGMConfig, SGMVFI
from motioncomic.interpolation.sgm_vfi.softsplat import softsplat
from tiny_sgm_vfi import make_frames, seeded_init

DATA = Path(__file__).parent / "data" / "sgm_vfi"
CONFIGS = {
    "small": SMALL,
    "base": BASE,
    "small_local": SGMConfig(16, (2, 2, 2, 4), global_branch=False),
    "base_local": SGMConfig(32, (2, 2, 2, 6), global_branch=False),
}
TINY = SGMConfig(8, (1, 1, 1, 2))  # same code paths, fewer parameters, for the file tests


def _frames(h, w):
    a, b = make_frames(h, w)
    return torch.from_numpy(a)[None], torch.from_numpy(b)[None]  # [1,H,W,3]


def _chw(x):
    return x.permute(0, 3, 1, 2).contiguous()


# ----------------------------------------------------------------------------- faithfulness
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_parameter_names_and_shapes_match_upstream(name):
    upstream = json.loads((DATA / "upstream_keys.json").read_text())[name]
    upstream = {k: v for k, v in upstream.items() if "attn_mask" not in k and "HW" not in k}
    with torch.device("meta"):
        ours = {k: list(v.shape) for k, v in SGMVFI(CONFIGS[name]).state_dict().items()}
    assert ours == upstream


#: Our port runs in float64 here, so its own rounding (~1e-12) is the same on every CPU; what remains
#: is the float32 rounding inside the upstream reference values. Measured (our port fp32 vs fp64,
#: OMP_NUM_THREADS 1 and 2, max |error| / max |value|): small_sparse up to 3.2e-4 (the top-k key
#: selection amplifies rounding), every other case <= 1.1e-5; the references sit 2.3e-4 and <= 8.1e-6
#: from the fp64 result. Limits: about twice the measured floor of each kind of case.
TOLERANCE = {"small_sparse": 5e-4}
DEFAULT_TOLERANCE = 1e-4


@pytest.mark.parametrize("case,cfg", [("small_sparse", SMALL), ("small_dense", SMALL),
                                      ("small_local", CONFIGS["small_local"]), ("base_dense", BASE)])
def test_port_matches_upstream_outputs(case, cfg):
    path = DATA / f"expected_{case}.safetensors"
    expected = load_file(path)
    meta = safe_open(str(path), "pt").metadata()
    net = SGMVFI(cfg).eval()
    seeded_init(net, int(meta["seed"]))
    net = net.double()
    a, b = _frames(int(meta["height"]), int(meta["width"]))
    with torch.no_grad():
        pred, flow, mask = net(_chw(a).double(), _chw(b).double())
    limit = TOLERANCE.get(case, DEFAULT_TOLERANCE)
    for key, got in (("pred", pred), ("flow", flow), ("mask", mask)):
        ref = expected[key].double()
        assert got.shape == ref.shape
        rel = ((got - ref).abs().max() / ref.abs().max()).item()
        assert rel < limit, f"{case} {key}: max error relative to max |value| = {rel:.2e} (limit {limit:.0e})"
    # The data exercises the network: not a constant or fully clamped output.
    assert 0.05 < ((ref := expected["pred"]) > 0).float().mean() and ref.std() > 0.05


def test_sparse_case_really_takes_the_sparse_path(monkeypatch):
    from motioncomic.interpolation.sgm_vfi import matching

    meta = safe_open(str(DATA / "expected_small_sparse.safetensors"), "pt").metadata()
    assert int(meta["height"]) // 8 > matching.DENSE_MAX_HEIGHT
    meta = safe_open(str(DATA / "expected_small_dense.safetensors"), "pt").metadata()
    assert int(meta["height"]) // 8 <= matching.DENSE_MAX_HEIGHT


# ----------------------------------------------------------------------------- splatting
def _splat_loop(values, flow, metric, mode):
    """Direct per-pixel transcription of softmax splatting (the definition)."""
    n, c, h, w = values.shape
    acc = torch.zeros(n, c + 1, h, w, dtype=torch.float64)
    for i in range(n):
        for y in range(h):
            for x in range(w):
                tx, ty = x + float(flow[i, 0, y, x]), y + float(flow[i, 1, y, x])
                if not (math.isfinite(tx) and math.isfinite(ty)):
                    continue
                weight = 1.0 if mode == "sum" else math.exp(float(metric[i, 0, y, x]))
                x0, y0 = math.floor(tx), math.floor(ty)
                for cx, cy in ((x0, y0), (x0 + 1, y0), (x0, y0 + 1), (x0 + 1, y0 + 1)):
                    share = (1 - abs(tx - cx)) * (1 - abs(ty - cy))
                    if 0 <= cx < w and 0 <= cy < h:
                        acc[i, :c, cy, cx] += values[i, :, y, x].double() * weight * share
                        acc[i, c, cy, cx] += weight * share
    if mode == "sum":
        return acc[:, :c]
    return acc[:, :c] / (acc[:, c:] + 1e-7)


@pytest.mark.parametrize("mode", ["sum", "soft"])
def test_softsplat_equals_per_pixel_loop(mode):
    g = torch.Generator().manual_seed(3)
    values = torch.rand(2, 3, 6, 9, generator=g)
    flow = torch.randn(2, 2, 6, 9, generator=g) * 3  # many targets leave the frame
    flow[0, 0, 1, 1] = float("inf")
    flow[1, 1, 2, 3] = float("nan")
    flow[1, :, 4, 4] = torch.tensor([2.0, -1.0])  # lands exactly on a pixel
    metric = torch.randn(2, 1, 6, 9, generator=g)
    got = softsplat(values, flow, metric if mode == "soft" else None, mode)
    want = _splat_loop(values, flow, metric, mode)
    assert torch.allclose(got.double(), want, atol=1e-5), (got.double() - want).abs().max()
    assert got.dtype == torch.float32 and torch.isfinite(got).all()


# ----------------------------------------------------------------------------- checkpoints
def _official_pkl(net: SGMVFI, path: Path, drop_prefix: str | None = None) -> None:
    """Save like upstream's Trainer: {'epoch', 'model': module.-prefixed incl. runtime buffers, 'optimizer'}."""
    sd = {f"module.{k}": v for k, v in net.state_dict().items() if not (drop_prefix and k.startswith(drop_prefix))}
    for j in (1,):  # the shifted blocks register these while running; upstream drops them on load
        sd[f"module.feature_bone.block4.{j}.attn_mask"] = torch.zeros(8, 49, 49)
        sd[f"module.feature_bone.block4.{j}.HW"] = torch.tensor([64.0])
    optimizer = {"state": {}, "param_groups": [{"lr": 2e-4, "betas": (0.9, 0.999), "weight_decay": 1e-4, "params": [0, 1]}]}
    torch.save({"epoch": 3, "model": sd, "optimizer": optimizer}, path)


@pytest.fixture(scope="module")
def tiny_net():
    net = SGMVFI(TINY).eval()
    seeded_init(net, 7)
    return net


@pytest.fixture(scope="module")
def official_files(tmp_path_factory, tiny_net):
    d = tmp_path_factory.mktemp("vfi")
    _official_pkl(tiny_net, d / "ours-1-2-points.pkl")
    split = d / "split"
    split.mkdir()
    _official_pkl(tiny_net, split / "ours-1-2-points.pkl", drop_prefix="gmflow.")
    gm = {k[len("gmflow."):]: v for k, v in tiny_net.state_dict().items() if k.startswith("gmflow.")}
    gm["upsampler.0.weight"] = torch.zeros(256, 130, 3, 3)  # GMFlow parts SGM-VFI does not use
    gm["feature_flow_attn.q_proj.weight"] = torch.zeros(128, 128)
    torch.save({"model": gm, "step": 100000}, split / "gmflow_sintel-0c07dcb3.pth")
    return d


def test_official_layout_loads_with_weights_only(official_files, tiny_net):
    raw = torch.load(official_files / "ours-1-2-points.pkl", weights_only=True)
    assert set(raw) == {"epoch", "model", "optimizer"} and all(k.startswith("module.") for k in raw["model"])
    interp = load_sgm_vfi(official_files / "ours-1-2-points.pkl", device="cpu")
    assert isinstance(interp, Interpolator)
    assert interp.midpoint_only and interp.multiple == 32 and interp.net.cfg == TINY
    a, b = _frames(64, 96)
    a0, b0 = a.clone(), b.clone()
    out = interp.pair(a, b, 0.5)
    assert torch.equal(a, a0) and torch.equal(b, b0)
    assert out.shape == (1, 64, 96, 3) and out.dtype == torch.float32 and out.device.type == "cpu"
    with torch.no_grad():  # the network sees BGR; pair() converts both ways
        ref = tiny_net(_chw(a.flip(-1)), _chw(b.flip(-1)))[0].permute(0, 2, 3, 1).flip(-1)
    assert torch.allclose(out, ref, atol=1e-6)
    interp.release()
    assert torch.allclose(interp.pair(a, b, 0.5), out, atol=1e-6)  # usable after release


def test_gmflow_weights_from_their_own_file(official_files):
    whole = load_sgm_vfi(official_files / "ours-1-2-points.pkl", device="cpu")
    split = load_sgm_vfi(official_files / "split" / "ours-1-2-points.pkl", device="cpu")
    for k, v in whole.net.state_dict().items():
        assert torch.equal(v, split.net.state_dict()[k]), k


def test_missing_gmflow_file_is_named(official_files, tmp_path, models_dir):
    lonely = tmp_path / "ours-1-2-points.pkl"
    lonely.write_bytes((official_files / "split" / "ours-1-2-points.pkl").read_bytes())
    with pytest.raises(ModelNotFoundError, match="gmflow_sintel-0c07dcb3.pth"):
        load_sgm_vfi(lonely, device="cpu")


def test_other_networks_are_refused_with_what_they_look_like(tmp_path, official_files):
    conv = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Conv2d(8, 4, 1))
    torch.save({"model": {f"module.{k}": v for k, v in conv.state_dict().items()}}, tmp_path / "rife.pkl")
    with pytest.raises(CheckpointError, match=r"not an SGM-VFI checkpoint: it looks like an unknown model \(first keys: 0\.bias"):
        load_sgm_vfi(tmp_path / "rife.pkl", device="cpu")
    with pytest.raises(CheckpointError, match="GMFlow"):
        load_sgm_vfi(official_files / "split" / "gmflow_sintel-0c07dcb3.pth", device="cpu")


def test_variant_is_inferred_and_checked(official_files):
    with pytest.raises(CheckpointError, match="not 'base'"):
        load_sgm_vfi(official_files / "ours-1-2-points.pkl", variant="base", device="cpu")
    with pytest.raises(MotionComicError, match="unsupported dtype"):
        load_sgm_vfi(official_files / "ours-1-2-points.pkl", dtype="int8", device="cpu")


def test_truncated_checkpoint_is_refused(official_files, tmp_path):
    data = (official_files / "ours-1-2-points.pkl").read_bytes()
    (tmp_path / "cut.pkl").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError):
        load_sgm_vfi(tmp_path / "cut.pkl", device="cpu")


# ----------------------------------------------------------------------------- interpolator
def test_pair_handles_odd_sizes_dtypes_and_refuses_other_times(official_files):
    interp = load_sgm_vfi(official_files / "ours-1-2-points.pkl", device="cpu")
    a, b = _frames(50, 70)  # padded to 64x96 inside, cropped back
    out = interp.pair(a, b, 0.5)
    assert out.shape == (1, 50, 70, 3) and 0 <= out.min() and out.max() <= 1
    with pytest.raises(MotionComicError, match="midpoint"):
        interp.pair(a, b, 0.25)
    with pytest.raises(MotionComicError, match="one size"):
        interp.pair(a, b[:, :40], 0.5)
    a, b = _frames(64, 96)
    ref = interp.pair(a, b, 0.5)
    # measured: float16 0.0004, bfloat16 0.007 mean absolute difference to float32
    for dtype, want, tol in (("bfloat16", torch.bfloat16, 0.03), (torch.float16, torch.float16, 0.005)):
        low = load_sgm_vfi(official_files / "ours-1-2-points.pkl", dtype=dtype, device="cpu")
        assert next(low.net.parameters()).dtype == want
        got = low.pair(a, b, 0.5)
        assert got.dtype == torch.float32 and torch.isfinite(got).all()
        assert (got - ref).abs().mean() < tol, (dtype, (got - ref).abs().mean())


def test_through_the_interpolate_entry(official_files):
    clip = pytest.importorskip("motioncomic.interpolation.clip")
    a, b = _frames(50, 70)
    frames = torch.cat([a, b, a], 0)
    vfi = load_sgm_vfi(official_files / "ours-1-2-points.pkl", device="cpu")
    res = clip.interpolate(frames, 2, model=vfi)
    out = res.frames
    assert out.shape == (5, 50, 70, 3)
    for i in range(3):
        assert torch.equal(out[2 * i], frames[i])
    assert torch.isfinite(out).all() and not torch.equal(out[1], frames[0])
