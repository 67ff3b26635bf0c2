"""The SGM-VFI network (and its local-only ``ours-local`` form), inference path only.

Attribute names mirror the official checkpoints: ``feature_bone`` (MotionFormer), ``block``
(IFBlocks at 1/8 and 1/4), ``contextnet``, ``unet``, and for the full model ``gmflow`` and
``matching_block.0``.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .gmflow import GMFlowFeatures
from .layers import backward_warp
from .matching import MatchingBlock
from .motionformer import MotionFormer
from .refine import Contextnet, IFBlock, Unet


@dataclass(frozen=True)
class SGMConfig:
    """Architecture hyper-parameters.

    ``width`` is F (16 small, 32 base); ``depths`` the MotionFormer stage depths
    (small ``[2, 2, 2, 4]``, base ``[2, 2, 2, 6]``); ``global_branch`` False for ``ours-local``;
    ``key_ratio`` the fraction of 1/8-scale positions used as sparse matching keys.
    """

    width: int = 16
    depths: tuple[int, int, int, int] = (2, 2, 2, 4)
    global_branch: bool = True
    key_ratio: float = 0.5
    window: int = 7

    @property
    def name(self) -> str:
        size = {16: "small", 32: "base"}.get(self.width, f"F{self.width}")
        return size if self.global_branch else f"{size} local"


SMALL = SGMConfig(16, (2, 2, 2, 4))
BASE = SGMConfig(32, (2, 2, 2, 6))


class SGMVFI(nn.Module):
    def __init__(self, cfg: SGMConfig = SMALL):
        super().__init__()
        self.cfg = cfg
        f = cfg.width
        dims = [f, 2 * f, 4 * f, 8 * f]
        self.feature_bone = MotionFormer(dims, list(cfg.depths), num_heads=8 * f // 32, window=cfg.window)
        self.block = nn.ModuleList([
            IFBlock(dims[-1] * 2, 128, 2, 8, in_else=7),   # 1/8: img0, img1, t
            IFBlock(dims[-2] * 2, 128, 2, 4, in_else=18),  # 1/4: + warps, mask, flow
        ])
        self.contextnet = Contextnet(2 * f)
        self.unet = Unet(2 * f)
        if cfg.global_branch:
            self.gmflow = GMFlowFeatures(128, 6)
            self.matching_block = nn.ModuleList([MatchingBlock(scale=8, c=4 * f, dim=dims[-1], num_layers=1)])

    def forward(self, img0: torch.Tensor, img1: torch.Tensor, t: float = 0.5):
        """Interpolate the frame at ``t`` (the checkpoints are trained for 0.5).

        Args:
            img0, img1: ``[B, 3, H, W]`` BGR in 0..1, ``H`` and ``W`` multiples of 32.
        Returns:
            ``(pred, flow, mask)``: ``[B, 3, H, W]`` in 0..1, the final flow ``[B, 4, H, W]``
            (t->0, t->1 in pixels) and fusion weight ``[B, 1, H, W]`` (sigmoid of the logit).
        """
        b = img0.shape[0]
        feats = self.feature_bone(img0, img1)
        gm_feat = self.gmflow(img0, img1) if self.cfg.global_branch else None
        timeplane = torch.full_like(img0[:, :1], t)
        flow = mask = None
        warped0, warped1 = img0, img1
        for i in range(2):
            af = feats[-1 - i]
            if flow is None:
                flow, mask, flow_s = self.block[0](torch.cat((img0, img1, timeplane), 1), None,
                                                   torch.cat([af[:b], af[b:]], 1))
            else:
                d_flow, d_mask, _ = self.block[i](torch.cat((img0, img1, warped0, warped1, mask, timeplane), 1),
                                                 flow, torch.cat([af[:b], af[b:]], 1))
                flow, mask = flow + d_flow, mask + d_mask
            warped0 = backward_warp(img0, flow[:, :2])
            warped1 = backward_warp(img1, flow[:, 2:4])
            if i == 0 and self.cfg.global_branch:
                d_flow, d_mask = self.matching_block[0](img0, img1, gm_feat, af, flow, flow_s, mask,
                                                        warped0, warped1, self.cfg.key_ratio, 0.5)
                flow, mask = flow + d_flow, mask + d_mask
                warped0 = backward_warp(img0, flow[:, :2])
                warped1 = backward_warp(img1, flow[:, 2:4])
        del feats, gm_feat
        weight = torch.sigmoid(mask)
        merged = warped0 * weight + warped1 * (1 - weight)
        c0 = self.contextnet(img0, flow[:, :2])
        c1 = self.contextnet(img1, flow[:, 2:4])
        res = self.unet(img0, img1, warped0, warped1, mask, flow, c0, c1)[:, :3] * 2 - 1
        return torch.clamp(merged + res, 0, 1), flow, weight

    def release(self) -> None:
        """Drop the cached window-attention masks."""
        self.feature_bone.release()
