"""The typed object a model loader hands to the sampler.

A loaded video model says what it is (family, variant), holds its components, and carries the
rules the sampler and framing need: which frames are native, which frame counts are legal, how
many text tokens the encoder takes, and the frame rate it was trained at. Nothing is guessed from
file names downstream.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import MotionComicError


@dataclass(frozen=True)
class FrameSpec:
    """How a model's native frame (height, width) is chosen.

    - ``fixed``: exactly ``sizes[0]`` (CogVideoX-5B-I2V: learned position embeddings, 480x720).
    - ``aspect_range``: short side ``short`` (user may choose another), long side between the short
      side and ``long_max`` scaled alike, both multiples of ``multiple``; orientation follows the
      image (CogVideoX 1.5: 768, 1360, 16).
    - ``buckets``: one of ``buckets[resolution]`` (Open-Sora aspect buckets), nearest aspect wins.
    - ``area``: fixed pixel area, any aspect: among the frames of at most ``areas[resolution]``
      pixels with both sides multiples of ``multiple``, the one whose aspect is nearest the
      image's (Wan: 704x1280 area for TI2V-5B, multiples of 32), so padding is only what rounding
      needs. Aspects beyond ``max_aspect`` are clamped (the rest is letterboxed).
    """

    kind: Literal["fixed", "aspect_range", "buckets", "area"]
    sizes: tuple[tuple[int, int], ...] = ()
    short: int = 0
    long_max: int = 0
    multiple: int = 16
    buckets: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    default_resolution: str = ""
    areas: dict[str, int] = field(default_factory=dict)
    max_aspect: float = 4.0


@dataclass(frozen=True)
class FrameCounts:
    """Legal frame counts: ``offset + k * step`` for ``minimum <= n <= maximum``."""

    step: int
    offset: int
    minimum: int
    maximum: int
    default: int

    def is_valid(self, n: int) -> bool:
        return self.minimum <= n <= self.maximum and (n - self.offset) % self.step == 0

    def valid_counts(self) -> list[int]:
        first = self.offset + self.step * max(0, -(-(self.minimum - self.offset) // self.step))
        return list(range(first, self.maximum + 1, self.step))

    def nearest(self, n: int) -> list[int]:
        """The valid counts closest to ``n`` (two when ``n`` lies between them)."""
        counts = self.valid_counts()
        best = min(abs(c - n) for c in counts)
        below = [c for c in counts if c <= n]
        above = [c for c in counts if c >= n]
        near = {c for c in counts if abs(c - n) == best}
        if below:
            near.add(below[-1])
        if above:
            near.add(above[0])
        return sorted(near)

    def check(self, n: int, model_name: str = "this model") -> int:
        """Return ``n`` if legal, else raise with the nearest legal counts."""
        if not self.is_valid(n):
            rule = f"{self.step}N+{self.offset}" if self.offset else f"a multiple of {self.step}"
            raise MotionComicError(
                f"{n} frames is not possible for {model_name}: it needs {rule} frames between "
                f"{self.minimum} and {self.maximum}. Nearest valid: "
                + " or ".join(str(c) for c in self.nearest(n))
                + "."
            )
        return n


@dataclass
class VideoModel:
    """A loaded video model, ready for ``samplers.i2v.image_to_video`` (or ``samplers.t2v``).

    ``components`` holds the family's parts (for CogVideoX: transformer, vae, text_encoder,
    tokenizer, scheduler_config; for Open-Sora: stdit, vae, text_encoder, tokenizer; for SVD: unet,
    vae, image_encoder, feature_extractor, scheduler_config; MimicMotion adds pose_net). ``text_tokens``
    0 = the model takes no prompt. ``dtype`` is
    the compute dtype, ``device`` where sampling runs, ``offload`` one of none/model/sequential.
    """

    family: Literal["cogvideox", "opensora", "svd", "mimicmotion", "wan"]
    variant: str
    components: dict[str, Any]
    dtype: Any
    device: Any
    frame: FrameSpec
    frame_counts: FrameCounts
    text_tokens: int
    fps: float
    offload: str = "none"
    name: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    #: ComfyUI ModelPatchers of the torch components (``host.manage``); empty standalone.
    patchers: dict[str, Any] = field(default_factory=dict, repr=False)
    #: ``i2v`` (image + text -> video) or ``t2v`` (text -> video)
    task: Literal["i2v", "t2v"] = "i2v"
    #: LoRAs applied while sampling (``loaders.lora.AppliedLora``), in order; the base weights are
    #: shared with the model this one was made from and never changed outside a sampling run
    loras: tuple[Any, ...] = ()
    #: Set while the weights are not loaded yet (``loaders/deferred.py``): returns the loaded model.
    loader: Any = field(default=None, repr=False)

    @property
    def loaded(self) -> bool:
        return self.loader is None

    def ensure_loaded(self) -> "VideoModel":
        """Load the weights now if this model was only described (once; later calls return at once).
        Realising the cached loader output is the one in-place change a node may make: it is what an
        eager loader would have cached."""
        if self.loader is not None:
            full = self.loader()
            self.components.update(full.components)
            self.dtype, self.variant, self.patchers = full.dtype, full.variant, full.patchers
            self.info.update(full.info)
            self.info.pop("deferred", None)
            self.loader = None
        return self

    def modules(self) -> dict[str, Any]:
        """The torch-module components (those that hold weights)."""
        return {k: v for k, v in self.components.items() if hasattr(v, "parameters")}

    def on_device(self, part: Any):
        """Context: the component ``part`` (its name or the module) on the compute device while it runs
        (``host.on_device``: memory freed first; with offload "model" moved back afterwards)."""
        from .. import host

        module = self.components[part] if isinstance(part, str) else part
        return host.on_device(module, self.device, offload=self.offload == "model")

    def __repr__(self) -> str:  # ComfyUI may print node outputs; keep it short
        loras = f", {len(self.loras)} LoRA" if self.loras else ""
        return f"VideoModel({self.family}/{self.variant}, {self.name!r}, {self.dtype}, {self.device}{loras})"
