"""IFNet (RIFE 4.6+) in plain PyTorch, one module for every layout of :mod:`.layouts`.

Parameter names and shapes are those of Practical-RIFE's ``train_log/IFNet_HDv3.py`` of each release,
so ``flownet.pkl`` / ``rife4x.pth`` state dicts load unchanged. The forward pass follows upstream
operation by operation (the same ``F.interpolate(scale_factor=...)`` calls, the same warp grid), so
float32 outputs equal upstream's to rounding.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..warp import backwarp as warp
from .layouts import RIFELayout


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=True), nn.LeakyReLU(0.2, True))


class ResConv(nn.Module):
    def __init__(self, c: int, groups: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 1, 1, groups=groups)
        self.beta = nn.Parameter(torch.ones((1, c, 1, 1)))
        self.relu = nn.LeakyReLU(0.2, True)

    def forward(self, x):
        return self.relu(self.conv(x) * self.beta + x)


class IFBlock(nn.Module):
    """Predicts a flow update (4 ch: to frame 0, to frame 1), a mask logit and, in 4.21+, 8 features."""

    def __init__(self, cin: int, c: int, feat: bool, groups: int = 1):
        super().__init__()
        self.conv0 = nn.Sequential(_conv(cin, c // 2, 2), _conv(c // 2, c, 2))
        self.convblock = nn.Sequential(*[ResConv(c, groups) for _ in range(8)])
        self.lastconv = nn.Sequential(nn.ConvTranspose2d(c, 4 * (13 if feat else 6), 4, 2, 1), nn.PixelShuffle(2))
        self.feat = feat

    def forward(self, x, flow=None, scale: float = 1.0):
        x = F.interpolate(x, scale_factor=1.0 / scale, mode="bilinear", align_corners=False)
        if flow is not None:
            flow = F.interpolate(flow, scale_factor=1.0 / scale, mode="bilinear", align_corners=False) * 1.0 / scale
            x = torch.cat((x, flow), 1)
        tmp = self.lastconv(self.convblock(self.conv0(x)))
        tmp = F.interpolate(tmp, scale_factor=scale, mode="bilinear", align_corners=False)
        return tmp[:, :4] * scale, tmp[:, 4:5], (tmp[:, 5:] if self.feat else None)


class Head(nn.Module):
    """The 4.13+ feature encoder (``encode.cnn0..cnn3``)."""

    def __init__(self, width: int, out: int):
        super().__init__()
        self.cnn0 = nn.Conv2d(3, width, 3, 2, 1)
        self.cnn1 = nn.Conv2d(width, width, 3, 1, 1)
        self.cnn2 = nn.Conv2d(width, width, 3, 1, 1)
        self.cnn3 = nn.ConvTranspose2d(width, out, 4, 2, 1)
        self.relu = nn.LeakyReLU(0.2, True)

    def forward(self, x):
        x = self.relu(self.cnn0(x))
        x = self.relu(self.cnn1(x))
        x = self.relu(self.cnn2(x))
        return self.cnn3(x)


def _encoder(layout: RIFELayout) -> nn.Module | None:
    w, out = layout.enc_width, layout.enc_out
    if layout.encoder == "tiny":
        return nn.Sequential(nn.Conv2d(3, w, 3, 2, 1), nn.ConvTranspose2d(w, out, 4, 2, 1))
    if layout.encoder == "seq":
        lrelu = lambda: nn.LeakyReLU(0.2, True)  # noqa: E731
        return nn.Sequential(nn.Conv2d(3, w, 3, 2, 1), lrelu(), nn.Conv2d(w, w, 3, 1, 1), lrelu(),
                             nn.Conv2d(w, w, 3, 1, 1), lrelu(), nn.ConvTranspose2d(w, out, 4, 2, 1))
    if layout.encoder == "head":
        return Head(w, out)
    return None


def _swap(flow: torch.Tensor) -> torch.Tensor:
    return torch.cat((flow[:, 2:4], flow[:, :2]), 1)


class IFNet(nn.Module):
    """RIFE's intermediate-flow network for one :class:`RIFELayout`."""

    def __init__(self, layout: RIFELayout):
        super().__init__()
        self.layout = layout
        for i, (cin, c) in enumerate(zip(layout.block_inputs(), layout.widths)):
            self.add_module(f"block{i}", IFBlock(cin, c, layout.feat, layout.groups))
        enc = _encoder(layout)
        if enc is not None:
            self.encode = enc

    def blocks(self) -> list[IFBlock]:
        return [getattr(self, f"block{i}") for i in range(len(self.layout.widths))]

    def forward(self, img0: torch.Tensor, img1: torch.Tensor, timestep, scale: float = 1.0,
                ensemble: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """The frame at ``timestep`` between ``img0`` and ``img1``.

        Args:
            img0, img1: ``[B, 3, H, W]`` RGB in 0..1, H and W multiples of ``layout.modulo / scale``
                (at least ``layout.modulo``).
            timestep: a float in (0, 1) or a tensor ``[B, 1, 1, 1]`` (one time per sample).
            scale: flow resolution factor (upstream's ``scale``: 0.5 for 4K, 2 for small frames).
            ensemble: also run every block on the swapped pair and average (layouts without feature
                channels only).
        Returns:
            ``(merged [B, 3, H, W], flow [B, 4, H, W])``.
        """
        lay = self.layout
        if ensemble and not lay.ensemble_supported:
            raise ValueError(f"RIFE {lay.label} does not support ensemble (upstream dropped it in 4.21)")
        if torch.is_tensor(timestep):
            timestep = timestep.to(img0.dtype).reshape(-1, 1, 1, 1).expand(img0.shape[0], 1, *img0.shape[2:])
        else:
            timestep = (img0[:, :1].clone() * 0 + 1) * timestep
        scales = [s / scale for s in lay.scale_list]
        enc = getattr(self, "encode", None)
        f0 = enc(img0[:, :3]) if enc is not None else None
        f1 = enc(img1[:, :3]) if enc is not None else None
        fts = (lambda *x: x) if enc is not None else (lambda *x: ())
        warped0, warped1 = img0, img1
        flow = mask = feat = None
        for i, block in enumerate(self.blocks()):
            if flow is None:
                flow, mask, feat = block(torch.cat((img0[:, :3], img1[:, :3], *fts(f0, f1), timestep), 1), None, scales[i])
                if ensemble:
                    f_, m_, _ = block(torch.cat((img1[:, :3], img0[:, :3], *fts(f1, f0), 1 - timestep), 1), None,
                                      scales[i])
                    flow = (flow + _swap(f_)) / 2
                    mask = (mask + (-m_)) / 2
            else:
                wf = fts(warp(f0, flow[:, :2]), warp(f1, flow[:, 2:4])) if enc is not None else ()
                extra = (feat,) if lay.feat else ()
                fd, m0, feat = block(torch.cat((warped0[:, :3], warped1[:, :3], *wf, timestep, mask, *extra), 1),
                                     flow, scales[i])
                if ensemble:
                    f_, m_, _ = block(torch.cat((warped1[:, :3], warped0[:, :3], *wf[::-1], 1 - timestep, -mask), 1),
                                      _swap(flow), scales[i])
                    fd = (fd + _swap(f_)) / 2
                    m0 = (m0 + (-m_)) / 2
                mask = mask + m0 if lay.accumulate_mask else m0
                flow = flow + fd
            warped0 = warp(img0, flow[:, :2])
            warped1 = warp(img1, flow[:, 2:4])
        mask = torch.sigmoid(mask)
        return warped0 * mask + warped1 * (1 - mask), flow

    def release(self) -> None:
        """Nothing cached per clip (the warp grid is rebuilt per call)."""
