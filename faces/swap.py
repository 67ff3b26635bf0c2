"""Identity: ArcFace recogniser (reference embedding) and inswapper-style face swapper.

Crops are RGB float32 ``[S,S,3]`` in 0..1 (aligned by :mod:`.align`). The swapper's ``source``
input is the normalised ArcFace embedding projected through the model's ``emap`` matrix (an
initializer of the ONNX graph, read with the ``onnx`` package) and normalised again — what
insightface's ``INSwapper`` does.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from . import models as kinds
from .runtime import open_model, read_initializer, first_ops

log = logging.getLogger(__name__)


class Recogniser:
    """ArcFace-style recogniser: aligned ``arcface_112`` crop -> L2-normalised embedding."""

    template = "arcface_112"

    def __init__(self, path: str | Path, preference: str = "auto"):
        self.path = Path(path)
        self.model = open_model(path, preference)
        kinds.expect(self.model, kinds.RECOGNISER)
        self.size = self.model.inputs[0].dim(2) or 112
        # as insightface: graphs (converted from mxnet) whose first nodes are named Sub/_minus and
        # Mul/_mul normalise inside, so they get 0..255; others get (x - 127.5) / 127.5
        names = first_ops(path)
        sub = any(n.startswith(("Sub", "_minus")) for n in names)
        mul = any(n.startswith(("Mul", "_mul")) for n in names)
        self.mean, self.std = (0.0, 1.0) if (sub and mul) else (127.5, 127.5)

    def embed(self, crops: np.ndarray) -> np.ndarray:
        """``crops`` [N,S,S,3] RGB 0..1 -> [N,D] unit-length embeddings."""
        blob = ((crops * 255.0 - self.mean) / self.std).transpose(0, 3, 1, 2).astype(np.float32)
        emb = self.model.run_batched({self.model.inputs[0].name: blob})[0].reshape(len(crops), -1)
        return emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)


class Swapper:
    """inswapper-style swapper: ``target`` [1,3,128,128] RGB 0..1 + ``source`` [1,512] latent ->
    swapped face [1,3,128,128] RGB 0..1, aligned with the ``arcface_128`` template."""

    template = "arcface_128"

    def __init__(self, path: str | Path, preference: str = "auto"):
        self.path = Path(path)
        self.model = open_model(path, preference)
        kinds.expect(self.model, kinds.SWAPPER)
        names = {i.name: i for i in self.model.inputs}
        self.target = names.get("target") or next(i for i in self.model.inputs if i.rank == 4)
        self.source = names.get("source") or next(i for i in self.model.inputs if i.rank == 2)
        self.size = self.target.dim(2) or 128
        dim = self.source.dim(1) or 512
        self.emap = read_initializer(path, name="emap", shape=(dim, dim))
        if self.emap is None:
            log.warning("%s has no [%d,%d] emap initializer; feeding the embedding unprojected",
                        self.path.name, dim, dim)

    def latent(self, embedding: np.ndarray) -> np.ndarray:
        """Unit embedding [D] -> the swapper's ``source`` input [1,D]."""
        lat = embedding.reshape(1, -1).astype(np.float32)
        if self.emap is not None:
            lat = lat @ self.emap.astype(np.float32)
        return (lat / max(float(np.linalg.norm(lat)), 1e-12)).astype(np.float32)

    def swap(self, crops: np.ndarray, latent: np.ndarray) -> np.ndarray:
        """``crops`` [N,S,S,3] RGB 0..1 -> swapped [N,S,S,3] RGB 0..1."""
        blob = crops.transpose(0, 3, 1, 2).astype(np.float32)
        if self.model.batch_dynamic():  # the latent is batched along with the targets
            out = self.model.run_batched({self.target.name: blob,
                                          self.source.name: np.repeat(latent, len(crops), axis=0)})
        else:
            out = self.model.run_batched({self.target.name: blob}, {self.source.name: latent})
        return np.clip(out[0].transpose(0, 2, 3, 1), 0.0, 1.0).astype(np.float32)
