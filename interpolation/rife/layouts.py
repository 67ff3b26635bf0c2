"""RIFE 4.x network layouts and how to recognise them from tensor names and shapes.

Practical-RIFE (hzwer) ships one ``IFNet_HDv3.py`` per release; from 4.6 on they share one design
(IFBlocks of 8 residual convs predicting flow + mask, coarse to fine) and differ in:

* the **feature encoder** applied to both frames (none in 4.6; a 2-layer ``encode`` in 4.7–4.9; a
  7-layer ``encode`` Sequential in 4.10–4.12; a ``Head`` with ``cnn0..cnn3`` from 4.13) and its
  output channels (4, 8 or 16);
* the **block widths** (``c`` of each IFBlock), 4 or 5 blocks, ResConv groups (4.14.lite);
* whether each block also passes 8 **feature channels** to the next (4.21+; its ``lastconv`` has
  4·13 instead of 4·6 outputs) — those versions do not support ``ensemble``;
* whether the mask is **accumulated** over blocks (4.6) or replaced by each block (4.7+);
* the **scale list**: ``[8, 4, 2, 1] / scale`` for 4 blocks, ``[16, 8, 4, 2, 1] / scale`` for 5,
  ``[32, 16, 8, 4, 1] / scale`` for 4.25.lite.

Several releases have the same tensors (4.7/4.8/4.9, 4.13–4.19 and 4.24, 4.25 and 4.26): a file
tells us its *layout*, not its release number; the label names every release of the layout.
The files of ComfyUI-Frame-Interpolation (``rife47.pth``, ``rife49.pth``, ``rife417.pth``,
``rife426.pth``…) hold the same state dicts without the ``module.`` prefix.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ...errors import CheckpointError
from ...loaders.identify import describe_checkpoint


@dataclass(frozen=True)
class RIFELayout:
    """One IFNet variant.

    Attributes:
        label: the releases with this layout, e.g. ``"4.7-4.9"``.
        encoder: ``None``, ``"tiny"`` (4.7), ``"seq"`` (4.10-4.12) or ``"head"`` (4.13+).
        enc_width: hidden channels of the encoder (16 or 32; 0 without one).
        enc_out: feature channels per frame (0 without an encoder).
        widths: ``c`` of each IFBlock (4 or 5 entries).
        feat: blocks pass 8 feature channels on (4.21+).
        groups: ResConv groups (2 in 4.14.lite).
        accumulate_mask: 4.6 adds each block's mask to the previous one.
        scale_list: base scale of each block (divided by the user's ``scale``).
    """

    label: str
    encoder: str | None
    enc_width: int
    enc_out: int
    widths: tuple[int, ...]
    feat: bool = False
    groups: int = 1
    accumulate_mask: bool = False
    scale_list: tuple[float, ...] = (8, 4, 2, 1)

    @property
    def ensemble_supported(self) -> bool:
        return not self.feat

    @property
    def modulo(self) -> int:
        """Frames are padded to a multiple of this (at scale 1): 4 x the coarsest block scale."""
        return int(4 * self.scale_list[0])

    def block_inputs(self) -> tuple[int, ...]:
        """Input channels of each block: frames, features, timestep (+ warped, mask, flow, feat)."""
        first = 7 + 2 * self.enc_out
        rest = 8 + 4 + 2 * self.enc_out + (8 if self.feat else 0)
        return (first,) + (rest,) * (len(self.widths) - 1)


_B4 = (192, 128, 96, 64)
_LITE = (128, 96, 64, 48)
_FIVE = (16, 8, 4, 2, 1)
#: Every layout we run, 4.6 and later.
KNOWN: tuple[RIFELayout, ...] = (
    RIFELayout("4.6", None, 0, 0, _B4, accumulate_mask=True),
    RIFELayout("4.7-4.9", "tiny", 16, 4, _B4),
    RIFELayout("4.10-4.12", "seq", 32, 8, _B4),
    RIFELayout("4.12.lite/4.13.lite", "seq", 32, 4, _LITE),
    RIFELayout("4.13-4.19/4.24", "head", 32, 8, _B4),
    RIFELayout("4.14.lite", "head", 32, 8, _B4, groups=2),
    RIFELayout("4.15.lite-4.17.lite", "head", 16, 4, _LITE),
    RIFELayout("4.20", "head", 32, 8, (384, 192, 96, 48)),
    RIFELayout("4.21-4.23", "head", 32, 8, (256, 192, 96, 48), feat=True),
    RIFELayout("4.22.lite", "head", 16, 4, (192, 128, 64, 32), feat=True),
    RIFELayout("4.25/4.26", "head", 16, 4, (192, 128, 96, 64, 32), feat=True, scale_list=_FIVE),
    RIFELayout("4.25.lite", "head", 16, 4, (192, 128, 96, 64, 24), feat=True, scale_list=(32, 16, 8, 4, 1)),
    RIFELayout("4.25.heavy", "head", 16, 4, (384, 256, 192, 128, 64), feat=True, scale_list=_FIVE),
    RIFELayout("4.26.heavy", "head", 16, 16, (192, 128, 96, 64, 32), feat=True, scale_list=_FIVE),
)
KNOWN_LABELS = ", ".join(k.label for k in KNOWN)
BY_LABEL = {k.label: k for k in KNOWN}
RELEASES = ("https://github.com/hzwer/Practical-RIFE (README: flownet.pkl per version in train_log/), or the "
            "rife47.pth/rife49.pth/rife417.pth/rife426.pth files ComfyUI-Frame-Interpolation downloads")


def is_rife(keys) -> bool:
    """True when the keys look like any RIFE IFNet (old or new)."""
    return any(k.startswith("block0.conv0.") for k in keys)


def _encoder(shapes: dict) -> tuple[str | None, int, int]:
    if "encode.cnn0.weight" in shapes:
        return "head", shapes["encode.cnn0.weight"][0], shapes["encode.cnn3.weight"][1]
    if "encode.6.weight" in shapes:
        return "seq", shapes["encode.0.weight"][0], shapes["encode.6.weight"][1]
    if "encode.1.weight" in shapes:
        return "tiny", shapes["encode.0.weight"][0], shapes["encode.1.weight"][1]
    return None, 0, 0


def identify(shapes: dict, name: str = "checkpoint") -> RIFELayout:
    """The layout of a RIFE state dict from its tensor names and shapes (never the file name).

    Args:
        shapes: tensor name -> shape (``module.`` prefixes already stripped).
    Raises:
        CheckpointError: not RIFE (naming what it looks like), or a RIFE version we do not run
            (naming the versions we know and what was found).
    """
    keys = list(shapes)
    if not is_rife(keys):
        looks = describe_checkpoint(keys)
        hint = ""
        if looks.startswith("SGM-VFI"):
            hint = " Choose it as an SGM-VFI model (it is listed in Load Interpolator as such)."
        raise CheckpointError(
            f"{name} is not a RIFE checkpoint: it looks like {looks} ({len(keys)} tensors).{hint}"
            f" Expected a RIFE 4.6+ flownet.pkl / rife4x.pth from {RELEASES}."
        )
    shapes = {k: tuple(v) for k, v in shapes.items()}
    blocks = sorted({int(m.group(1)) for k in keys if (m := re.match(r"block(\d+)\.conv0\.0\.0\.weight$", k))})
    widths = tuple(shapes[f"block{i}.conv0.1.0.weight"][0] for i in blocks if f"block{i}.conv0.1.0.weight" in shapes)
    inputs = tuple(shapes[f"block{i}.conv0.0.0.weight"][1] for i in blocks)
    last = shapes.get("block0.lastconv.0.weight")
    encoder, enc_width, enc_out = _encoder(shapes)
    found = (f"{len(blocks)} blocks of widths {list(widths)}, inputs {list(inputs)}, encoder "
             f"{encoder or 'none'}{f' ({enc_width}->{enc_out} channels)' if encoder else ''}, last conv "
             f"{'x'.join(map(str, last)) if last else 'without PixelShuffle'}")
    if last is None or "contextnet.conv1.conv1.0.weight" in shapes or last[1] not in (24, 52):
        old = "4.0-4.3" if last is None or "contextnet.conv1.conv1.0.weight" in shapes else "4.5 or older"
        raise CheckpointError(
            f"{name} is RIFE {old} ({found}); only RIFE 4.6 and later are supported (known layouts: "
            f"{KNOWN_LABELS}). Use e.g. rife47.pth, rife49.pth or a newer flownet.pkl from {RELEASES}."
        )
    groups = widths[0] // shapes["block0.convblock.0.conv.weight"][1] if widths else 1
    for cand in KNOWN:
        if (cand.encoder, cand.enc_width if cand.encoder else 0, cand.enc_out) != (encoder, enc_width, enc_out):
            continue
        if cand.widths == widths and cand.block_inputs() == inputs and cand.groups == groups \
                and (last[1] == 52) == cand.feat:
            return cand
    raise CheckpointError(
        f"{name} is a RIFE network of an unknown version: {found}, ResConv groups {groups}. Known layouts: "
        f"{KNOWN_LABELS}. If it is a newer Practical-RIFE release, please report it with these figures."
    )
