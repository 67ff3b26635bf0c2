"""Test helper: a VAE whose ``decode`` runs out of memory unless tiling is on (the OOM-retry tests)."""
from __future__ import annotations

import torch


def oom_unless_tiled(monkeypatch, vae) -> list[bool]:
    """Patch ``type(vae).decode`` to raise CUDA's out-of-memory error while ``use_tiling`` is off; the
    returned list records ``use_tiling`` at every call."""
    seen: list[bool] = []
    real_decode = type(vae).decode

    def flaky(self, z, *a, **k):
        seen.append(self.use_tiling)
        if not self.use_tiling:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")
        return real_decode(self, z, *a, **k)

    monkeypatch.setattr(type(vae), "decode", flaky)
    return seen
