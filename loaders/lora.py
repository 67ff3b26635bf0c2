"""LoRAs for CogVideoX: read the layouts they are shared in, check them against a loaded model,
and apply them (unfused hooks or fused for speed) for the length of one sampling run.

Supported file layouts (``.safetensors``; ``.pt/.bin`` only through ``torch.load(weights_only=True)``):

- **diffusers / PEFT** -- ``transformer.<module>.lora_A.weight`` / ``.lora_B.weight``, as diffusers'
  CogVideoX trainers, finetrainers, the official CogVideo ``finetune/`` scripts, CogVideo's
  ``tools/export_sat_lora_weight.py`` and our ``train-lora`` write ``pytorch_lora_weights.safetensors``.
  Prefixes ``transformer.``, ``base_model.model.`` (raw PEFT), ``diffusion_model.`` (ComfyUI) and
  an adapter name (``lora_A.default.weight``) are accepted. ``lora_alpha`` comes from diffusers'
  ``lora_adapter_metadata`` (``transformer.lora_alpha`` / ``transformer.r`` /
  ``transformer.alpha_pattern``), else ``<module>.alpha`` tensors, else alpha = rank (scale 1).
- **kohya / CogVideoX-Fun** -- ``lora_unet_transformer_blocks_0_attn1_to_q.lora_down.weight`` /
  ``.lora_up.weight`` / ``.alpha`` (``lora_transformer_`` too), as CogVideoX-Fun's trainer and
  kohya-style tools write them; the underscored name is matched against the model's modules.
- **dotted down/up** -- ``<module>.lora_down.weight`` / ``.lora_up.weight`` (``.lora.down``,
  ``.lora_linear_layer.down``), the older diffusers attention-processor layout.

Text-encoder keys (``text_encoder.``, ``lora_te_``) are ignored with a warning (CogVideoX LoRAs
train the transformer only). DoRA and LyCORIS (LoHa/LoKr) files are refused, as are files whose
layers do not exist in the model, have other shapes (another base: 2B vs 5B, T2V vs I2V patch
embedding, 1.0 vs 1.5 OFS layers), or halves of a pair missing. A file that says what it was made
for (our ``motioncomic.base`` metadata) is refused on another variant even when shapes agree.

A LoRA never changes the loaded model: :func:`with_lora` returns a new ``VideoModel`` sharing the
base weights and listing the LoRA; :func:`lora_applied` is entered by the engine around the
denoising loop and adds ``strength * alpha/rank * up @ down`` either as a forward hook on each
target ``nn.Linear`` (unfused) or into the weights (fused, restored bit-exactly afterwards from a
copy on the offload device), for every offload mode (under sequential offload the weights being
fused are the CPU copies accelerate streams from).
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from .. import host
from ..errors import CheckpointError, MotionComicError
from . import checkpoints

log = logging.getLogger(__name__)

#: Largest strength accepted (either sign); beyond it the output is noise.
MAX_STRENGTH = 10.0
#: Model folders searched for LoRA files: ComfyUI's ``models/loras/`` and the CogVideoX wrappers'
#: ``models/CogVideo/loras/`` (listed as ``CogVideo/loras/<file>``).
LORA_EXT = (".safetensors", ".sft", ".pt", ".pth", ".bin")
COG_PREFIX = "CogVideo/loras/"
_PREFIXES = ("base_model.model.", "model.diffusion_model.", "diffusion_model.", "transformer.", "unet.")
_KOHYA = ("lora_unet_", "lora_transformer_")
_PEFT = re.compile(r"^(?P<mod>.+)\.lora_(?P<half>[AB])(?:\.[A-Za-z0-9_-]+)?\.weight$")
_DOWN_UP = re.compile(r"^(?P<mod>.+)\.(?:lora[._]|lora_linear_layer\.)(?P<half>down|up)\.weight$")


# --------------------------------------------------------------------------- data
@dataclass(frozen=True)
class LoraLayer:
    """One low-rank pair: ``down`` [rank, in], ``up`` [out, rank]; the update is
    ``scale * up @ down`` with ``scale = alpha / rank``."""

    down: Any
    up: Any
    scale: float


@dataclass(frozen=True)
class LoraFile:
    """A LoRA read from disk. ``layers`` keys are module names as the file spells them (dotted, or
    underscored for kohya); ``base`` is what the file says it was made for (metadata), if anything."""

    name: str
    path: str
    layout: str
    layers: dict[str, LoraLayer]
    underscored: bool = False
    base: str = ""
    ignored: tuple[str, ...] = ()

    @property
    def rank(self) -> int:
        return max((int(layer.down.shape[0]) for layer in self.layers.values()), default=0)


@dataclass(frozen=True)
class AppliedLora:
    """A LoRA at a strength on a model; its layers are matched to the transformer's modules when it
    is applied (the model may not be loaded yet when the LoRA node runs)."""

    name: str
    strength: float
    fuse: bool
    lora: LoraFile = field(repr=False)


# --------------------------------------------------------------------------- files
def lora_choices() -> list[str]:
    """LoRA files for a node's list: ``models/loras/`` names, then ``CogVideo/loras/<file>``."""
    plain = host.list_files("loras", LORA_EXT)
    cog = [COG_PREFIX + f[len("loras/"):] for f in host.list_files("CogVideo", LORA_EXT) if f.startswith("loras/")]
    return plain + cog


def resolve_lora(name: str | Path) -> Path:
    """The file of a LoRA choice (see :func:`lora_choices`), only inside the model folders."""
    hint = ("Put LoRA files (.safetensors) in models/loras/ or models/CogVideo/loras/. "
            f"Available: {', '.join(lora_choices()[:8]) or 'none'}.")
    if isinstance(name, str) and name.startswith(COG_PREFIX):
        return host.find_model("CogVideo", "loras/" + name[len(COG_PREFIX):], hint, what="LoRA")
    return host.find_model("loras", name, hint, what="LoRA")


def _metadata_alpha(meta: dict[str, str]) -> tuple[float | None, dict[str, float]]:
    """(global lora_alpha, per-module alpha pattern) from diffusers' or our metadata."""
    raw = meta.get("lora_adapter_metadata")
    alpha, pattern = None, {}
    if raw:
        try:
            info = json.loads(raw)
        except json.JSONDecodeError:
            info = {}
        alpha = info.get("transformer.lora_alpha", info.get("lora_alpha"))
        pattern = info.get("transformer.alpha_pattern", info.get("alpha_pattern")) or {}
    if alpha is None and meta.get("motioncomic.lora_alpha"):
        alpha = float(meta["motioncomic.lora_alpha"])
    return (None if alpha is None else float(alpha)), {k: float(v) for k, v in pattern.items()}


def read_lora(path: str | Path, name: str = "") -> LoraFile:
    """Read and normalise a LoRA file (see the module docstring for the layouts).

    Raises :class:`CheckpointError` for a file that is not a LoRA, DoRA/LyCORIS files and pairs with
    a missing half or mismatched ranks (a few named)."""
    path = Path(path)
    name = name or path.name
    meta = checkpoints.safetensors_metadata(path) if path.suffix in (".safetensors", ".sft") else {}
    halves: dict[str, dict[str, Any]] = {}
    alphas: dict[str, float] = {}
    ignored, unknown, underscored, layouts = [], [], False, set()
    for raw_key, tensor in checkpoints.iter_tensors(path):
        if any(t in raw_key for t in ("dora_scale", "lora_magnitude_vector")):
            raise CheckpointError(f"{name} is a DoRA file ({raw_key}); only plain LoRA is supported. "
                                  "Export it as LoRA (without weight decomposition).")
        if any(t in raw_key for t in ("hada_w", "lokr_w")):
            raise CheckpointError(f"{name} is a LyCORIS LoHa/LoKr file ({raw_key}); only plain LoRA is supported.")
        if raw_key.startswith(("text_encoder.", "lora_te")):
            ignored.append(raw_key)
            continue
        key = checkpoints.strip_prefixes(raw_key, _PREFIXES)
        if key.startswith(_KOHYA):
            underscored = True
            key = key[next(len(p) for p in _KOHYA if key.startswith(p)):]
        if key.endswith(".alpha"):
            alphas[key[: -len(".alpha")]] = float(tensor.float().reshape(-1)[0])
            continue
        m = _PEFT.match(key) or _DOWN_UP.match(key)
        if m is None:
            unknown.append(raw_key)
            continue
        half = {"A": "down", "B": "up"}.get(m.group("half"), m.group("half"))
        layouts.add("diffusers" if m.re is _PEFT else "kohya" if underscored else "down/up")
        halves.setdefault(m.group("mod"), {})[half] = tensor
    if unknown:
        raise CheckpointError(
            f"{name} has {len(unknown)} keys that are not LoRA weights, e.g. {', '.join(unknown[:4])}. "
            "Supported: diffusers/PEFT (lora_A/lora_B), kohya (lora_unet_*.lora_down/lora_up/alpha); see docs/lora.md.")
    if not halves:
        raise CheckpointError(f"{name} holds no transformer LoRA weights"
                              + (f" (only text-encoder keys such as {ignored[0]})" if ignored else "") + ".")
    incomplete = [f"{m}.{'lora_B/up' if 'up' not in h else 'lora_A/down'}" for m, h in halves.items() if len(h) != 2]
    if incomplete:
        raise CheckpointError(f"{name} is incomplete: {len(incomplete)} layers miss half of their pair, e.g. "
                              f"{', '.join(incomplete[:4])}. Download or export it again.")
    global_alpha, pattern = _metadata_alpha(meta)
    layers: dict[str, LoraLayer] = {}
    bad_rank = []
    for mod, h in halves.items():
        down, up = h["down"], h["up"]
        if down.ndim == 4:  # 1x1 conv layout some tools use for linears
            down, up = down.flatten(1), up.flatten(1)
        if down.ndim != 2 or up.ndim != 2 or down.shape[0] != up.shape[1]:
            bad_rank.append(f"{mod} (down {tuple(down.shape)}, up {tuple(up.shape)})")
            continue
        rank = int(down.shape[0])
        alpha = next((v for k, v in pattern.items() if mod == k or mod.endswith("." + k)), None)
        alpha = alpha if alpha is not None else alphas.get(mod, global_alpha if global_alpha is not None else rank)
        layers[mod] = LoraLayer(down, up, float(alpha) / rank)
    if bad_rank:
        raise CheckpointError(f"{name}: the rank layout does not pair up (down [rank, in] with up [out, rank]) in "
                              f"{len(bad_rank)} layers, e.g. {'; '.join(bad_rank[:3])}.")
    if ignored:
        log.warning("%s: ignoring %d text-encoder keys (e.g. %s)", name, len(ignored), ignored[0])
    return LoraFile(name=name, path=str(path), layout="+".join(sorted(layouts)), layers=layers,
                    underscored=underscored, base=meta.get("motioncomic.base", ""), ignored=tuple(ignored))


# --------------------------------------------------------------------------- against a model
def describe_base(layers: dict[str, tuple[int, int]]) -> str:
    """What a set of (module -> (out, in)) shapes was made for, in words (for error messages)."""
    width = next((s[1] for k, s in layers.items() if k.endswith("attn1.to_q")), None)
    if width is None:
        width = next((s[1] for k, s in layers.items() if ".attn1." in k), None)
    blocks = {int(m.group(1)) for k in layers if (m := re.match(r"transformer_blocks[._](\d+)[._]", k))}
    parts = []
    if width == 1920:
        parts.append("CogVideoX-2B (1.0 text-to-video)")
    elif width == 3072:
        parts.append("a 5B CogVideoX")
    elif width:
        parts.append(f"a CogVideoX transformer {width} wide")
    if blocks:
        parts.append(f"at least {max(blocks) + 1} blocks")
    if any("ofs_embedding" in k for k in layers):
        parts.append("1.5 image-to-video (OFS layers)")
    patch = next((s for k, s in layers.items() if k.startswith("patch_embed.proj")), None)
    if patch is not None and patch[1] % 8 == 0 and patch[1] > 64:
        channels = patch[1] // 8  # 1.5: Linear over (pt=2, p=2, p=2) x channels
        parts.append(f"1.5 {'image' if channels == 32 else 'text'}-to-video patch embedding ({channels} channels)")
    return ", ".join(parts) or "an unknown model"


def describe_model(model) -> str:
    cfg = model.components["transformer"].config
    return (f"CogVideoX {model.variant} ({cfg.num_attention_heads * cfg.attention_head_dim} wide, "
            f"{cfg.num_layers} blocks)")


def _linears(transformer) -> dict[str, Any]:
    import torch

    return {n: m for n, m in transformer.named_modules() if isinstance(m, torch.nn.Linear)}


def resolve_against(lora: LoraFile, model) -> dict[str, LoraLayer]:
    """Module name (in ``model``'s loaded transformer) -> layer; refuses another base with what the
    LoRA was made for and what the model is, and lists (a few) layers the model does not have."""
    linears = _linears(model.components["transformer"])
    by_name = {n.replace(".", "_"): n for n in linears} if lora.underscored else {n: n for n in linears}
    shapes = {k: (int(v.up.shape[0]), int(v.down.shape[1])) for k, v in lora.layers.items()}
    unknown, mismatched, out = [], [], {}
    for key, layer in lora.layers.items():
        target = by_name.get(key)
        if target is None:
            unknown.append(key)
            continue
        lin = linears[target]
        if (lin.out_features, lin.in_features) != shapes[key]:
            mismatched.append(f"{target} {shapes[key][1]}->{shapes[key][0]} (model {lin.in_features}->{lin.out_features})")
            continue
        out[target] = layer
    if mismatched or unknown:
        what = describe_base(shapes)
        detail = []
        if mismatched:
            detail.append(f"{len(mismatched)} layers have other shapes, e.g. {'; '.join(mismatched[:3])}")
        if unknown:
            detail.append(f"{len(unknown)} layers this model does not have, e.g. {', '.join(unknown[:4])}")
        raise MotionComicError(
            f"LoRA {lora.name} does not fit {describe_model(model)}: {'; '.join(detail)}. It looks made for {what}. "
            "Use it with the base model it was trained on.")
    return out


def check_strength(strength: float, what: str = "strength") -> float:
    s = float(strength)
    if not math.isfinite(s) or abs(s) > MAX_STRENGTH:
        raise MotionComicError(f"LoRA {what} {strength!r} is not usable: give a number between -{MAX_STRENGTH:g} "
                               f"and {MAX_STRENGTH:g} (1.0 = as trained, 0 = off).")
    return s


def with_lora(model, lora: LoraFile, strength: float = 1.0, *, fuse: bool = False):
    """A new ``VideoModel`` = ``model`` + ``lora`` at ``strength`` (chainable). ``model`` and its
    weights are not changed; the LoRA is applied only while the engine samples.

    A loaded model is checked now (another base is refused here); a described one (loaded later,
    ``loaders/deferred.py``) is checked on the metadata now and on the layers when it is loaded,
    and loading the result loads ``model`` itself, so the weights are read once and shared."""
    s = check_strength(strength)
    if model.family != "cogvideox":
        raise MotionComicError(f"LoRA {lora.name} is for CogVideoX; {model.name or model.variant} is a "
                               f"{model.family} model. Load a CogVideoX model and put the LoRA node after it.")
    if lora.base and lora.base.removeprefix("cogvideox-") != model.variant:
        raise MotionComicError(
            f"LoRA {lora.name} was made for CogVideoX {lora.base.removeprefix('cogvideox-')} (its metadata says so); "
            f"this model is CogVideoX {model.variant}. Use it with that base model.")
    loaded = getattr(model, "loaded", True)
    if loaded:
        targets = resolve_against(lora, model)
        log.info("LoRA %s (%s, rank %d, %d layers) at %g on %s", lora.name, lora.layout, lora.rank, len(targets),
                 s, model.name or model.variant)
    applied = AppliedLora(name=lora.name, strength=s, fuse=bool(fuse), lora=lora)
    info = dict(model.info, loras=[*model.info.get("loras", []), f"{lora.name} @ {s:g}{' fused' if fuse else ''}"])
    extra = {} if loaded else {"loader": model.ensure_loaded}
    return dataclasses.replace(model, components=dict(model.components), loras=(*model.loras, applied), info=info,
                               **extra)


# --------------------------------------------------------------------------- applying
class _Delta:
    """Forward hook adding ``sum_i up_i(down_i(x))`` (strength and alpha/rank folded into ``up``)."""

    def __init__(self, parts: list[tuple[Any, Any]]):
        self.parts = parts
        self.cache: dict[tuple, list] = {}

    def __call__(self, module, args, output):
        import torch.nn.functional as F

        x = args[0]
        key = (x.device, x.dtype)
        ws = self.cache.get(key)
        if ws is None:
            ws = self.cache[key] = [(d.to(x.device, x.dtype), u.to(x.device, x.dtype)) for d, u in self.parts]
        for d, u in ws:
            output = output + F.linear(F.linear(x, d), u)
        return output


def _weight_tensor(module):
    """The tensor holding a Linear's real weight: the parameter, or under accelerate's sequential
    offload (parameter on the meta device) the CPU copy its hook streams in."""
    hook = getattr(module, "_hf_hook", None)
    if module.weight.device.type == "meta" and hook is not None and getattr(hook, "weights_map", None) is not None:
        return hook.weights_map["weight"]
    return module.weight.data


@contextlib.contextmanager
def lora_applied(model, transformer=None) -> Iterator[None]:
    """Apply ``model.loras`` to its transformer for the block (hooks and/or fused weights), then
    remove them exactly. Strength-0 LoRAs are skipped, so they change nothing at all."""
    import torch

    active = [a for a in getattr(model, "loras", ()) if a.strength != 0]
    if not active:
        yield
        return
    transformer = transformer if transformer is not None else model.components["transformer"]
    modules = dict(transformer.named_modules())
    hooked: dict[str, list] = {}
    fused: dict[str, list] = {}
    for a in active:
        for name, layer in resolve_against(a.lora, model).items():
            (fused if a.fuse else hooked).setdefault(name, []).append((layer, a.strength * layer.scale))
    handles, backups = [], []
    try:
        with torch.no_grad():
            for name, parts in fused.items():
                w = _weight_tensor(modules[name])
                backups.append((w, w.detach().to(host.offload_device(), copy=True)))
                delta = sum(f * (layer.up.to(w.device, torch.float32) @ layer.down.to(w.device, torch.float32))
                            for layer, f in parts)
                w.copy_((w.float() + delta).to(w.dtype))
        for name, parts in hooked.items():
            hook = _Delta([(layer.down, layer.up.float() * f) for layer, f in parts])
            handles.append(modules[name].register_forward_hook(hook))
        yield
    finally:
        for h in handles:
            h.remove()
        with torch.no_grad():
            for w, saved in backups:
                w.copy_(saved.to(w.device))
