"""Face enhancers (GFPGAN, CodeFormer, GPEN-BFR, RestoreFormer++ ONNX) and face mask models.

Enhancers take an ``ffhq_512``-aligned RGB crop in [-1,1] (NCHW) and return one in [-1,1];
CodeFormer also takes a fidelity ``weight`` (0 = most restoration, 1 = most faithful to the
input). They are recognised by their inputs and outputs, not by file name.

Mask models run on the same crop and give a [S,S] mask 0..1 that is combined with the box mask by
minimum: an occlusion model (one output channel: 1 = face visible) or a face parser (19 classes,
BiSeNet order; the face regions are kept).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import models as kinds
from .runtime import open_model

#: BiSeNet face-parsing classes kept by default: skin, brows, eyes, glasses, nose, mouth, lips.
FACE_REGIONS = (1, 2, 3, 4, 5, 6, 10, 11, 12, 13)


class Enhancer:
    """A face restoration model: aligned crop RGB 0..1 [N,S,S,3] -> restored crop, same range."""

    template = "ffhq_512"

    def __init__(self, path: str | Path, preference: str = "auto"):
        self.path = Path(path)
        self.model = open_model(path, preference)
        kinds.expect(self.model, kinds.ENHANCER)
        self.image = next(i for i in self.model.inputs if i.rank == 4)
        self.weight = next((i for i in self.model.inputs if i.rank <= 1), None)
        self.size = self.image.dim(2) or 512
        self.output = next(o.name for o in self.model.outputs if o.rank == 4)

    @property
    def takes_fidelity(self) -> bool:
        """True for CodeFormer-style models with a fidelity weight input."""
        return self.weight is not None

    def _weight(self, fidelity: float) -> np.ndarray:
        dtype = np.float64 if "double" in self.weight.type else np.float32
        return np.array([fidelity] if self.weight.rank == 1 else fidelity, dtype)

    def enhance(self, crops: np.ndarray, fidelity: float = 0.7) -> np.ndarray:
        blob = ((crops - 0.5) / 0.5).transpose(0, 3, 1, 2).astype(np.float32)
        fixed = {self.weight.name: self._weight(fidelity)} if self.weight is not None else None
        out = self.model.run_batched({self.image.name: blob}, fixed)
        idx = [o.name for o in self.model.outputs].index(self.output)
        res = out[idx].transpose(0, 2, 3, 1)
        return ((np.clip(res, -1.0, 1.0) + 1.0) / 2.0).astype(np.float32)


class MaskModel:
    """Occlusion or face-parsing model: aligned crop [N,S,S,3] RGB 0..1 -> mask [N,S,S] 0..1."""

    template = "ffhq_512"

    def __init__(self, path: str | Path, preference: str = "auto", regions: tuple[int, ...] = FACE_REGIONS):
        self.path = Path(path)
        self.model = open_model(path, preference)
        kinds.expect(self.model, kinds.MASK)
        inp = self.model.inputs[0]
        self.nhwc = inp.dim(3) == 3
        self.size = (inp.dim(1) if self.nhwc else inp.dim(2)) or 256
        out = self.model.outputs[0]
        self.channels = (out.dim(3) if self.nhwc else out.dim(1)) or 1
        self.regions = regions

    def masks(self, crops: np.ndarray) -> np.ndarray:
        import cv2

        n, s = len(crops), crops.shape[1]
        small = np.stack([cv2.resize(c, (self.size, self.size), interpolation=cv2.INTER_AREA) for c in crops])
        if self.channels > 1:  # face parser: ImageNet normalisation
            small = (small - np.array([0.485, 0.456, 0.406], np.float32)) / np.array([0.229, 0.224, 0.225], np.float32)
        blob = small.astype(np.float32) if self.nhwc else small.transpose(0, 3, 1, 2).astype(np.float32)
        out = self.model.run_batched({self.model.inputs[0].name: blob})[0]
        if self.nhwc:
            out = out.transpose(0, 3, 1, 2)
        if out.shape[1] == 1:
            m = np.clip(out[:, 0], 0.0, 1.0)
        else:
            m = np.isin(out.argmax(axis=1), self.regions).astype(np.float32)
        result = np.empty((n, s, s), np.float32)
        for i in range(n):
            big = cv2.resize(m[i].astype(np.float32), (s, s), interpolation=cv2.INTER_LINEAR)
            big = cv2.GaussianBlur(big.clip(0, 1), (0, 0), max(s / 100.0, 1.0))
            result[i] = (big.clip(0.5, 1.0) - 0.5) * 2.0
        return result
