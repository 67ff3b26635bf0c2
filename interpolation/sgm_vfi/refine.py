"""Local-branch flow estimation and the final synthesis: IFBlock (coarse-to-fine flow + fusion
mask), the context pyramid warped along the flow, and the U-Net that predicts the residual."""
from __future__ import annotations

import torch
from torch import nn

from .layers import backward_warp, conv_prelu, deconv_prelu, resize


class IFBlock(nn.Module):
    """Predicts bidirectional flow ``t->0, t->1`` (4 ch) and a fusion-mask logit at ``1/scale``.

    Args:
        in_planes: channels of the (both-frame) appearance features.
        in_else: channels of the image/flow/time input concatenated in front of them.
    """

    def __init__(self, in_planes: int, c: int, layers: int, scale: int, in_else: int):
        super().__init__()
        self.scale = scale
        self.conv0 = nn.Sequential(conv_prelu(in_planes + in_else, c), conv_prelu(c, c))
        self.convblock = nn.Sequential(*[conv_prelu(c, c) for _ in range(layers)])
        self.lastconv = conv_prelu(c, 5)

    def forward(self, x: torch.Tensor, flow: torch.Tensor | None, feature: torch.Tensor):
        """Returns full-resolution ``flow`` [B,4,H,W], ``mask`` logit [B,1,H,W] and ``flow_s``
        (the flow at this block's own scale, in its pixels)."""
        s = self.scale
        x = resize(x, 1.0 / s)
        if flow is not None:
            x = torch.cat((x, resize(flow, 1.0 / s) * (1.0 / s)), 1)
        x = self.conv0(torch.cat((x, feature), 1))
        x = self.convblock(x) + x
        out = self.lastconv(x)
        flow_s = out[:, :4]
        out = resize(out, float(s))
        return out[:, :4] * s, out[:, 4:5], flow_s


class Conv2(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 2):
        super().__init__()
        self.conv1 = conv_prelu(cin, cout, 3, stride, 1)
        self.conv2 = conv_prelu(cout, cout, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1(x))


class Contextnet(nn.Module):
    """Four-level feature pyramid of one frame, each level backward-warped to time t."""

    def __init__(self, c: int):
        super().__init__()
        self.conv1 = Conv2(3, c)
        self.conv2 = Conv2(c, 2 * c)
        self.conv3 = Conv2(2 * c, 4 * c)
        self.conv4 = Conv2(4 * c, 8 * c)

    def forward(self, x: torch.Tensor, flow: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            x = conv(x)
            flow = resize(flow, 0.5) * 0.5
            out.append(backward_warp(x, flow))
        return out


class Unet(nn.Module):
    """Predicts the RGB residual (sigmoid, later mapped to -1..1) from images, warps, mask, flow
    and both context pyramids."""

    def __init__(self, c: int, out: int = 3):
        super().__init__()
        self.down0 = Conv2(17, 2 * c)
        self.down1 = Conv2(4 * c, 4 * c)
        self.down2 = Conv2(8 * c, 8 * c)
        self.down3 = Conv2(16 * c, 16 * c)
        self.up0 = deconv_prelu(32 * c, 8 * c)
        self.up1 = deconv_prelu(16 * c, 4 * c)
        self.up2 = deconv_prelu(8 * c, 2 * c)
        self.up3 = deconv_prelu(4 * c, c)
        self.conv = nn.Conv2d(c, out, 3, 1, 1)

    def forward(self, img0, img1, warped0, warped1, mask, flow, c0, c1) -> torch.Tensor:
        s0 = self.down0(torch.cat((img0, img1, warped0, warped1, mask, flow), 1))
        s1 = self.down1(torch.cat((s0, c0[0], c1[0]), 1))
        s2 = self.down2(torch.cat((s1, c0[1], c1[1]), 1))
        s3 = self.down3(torch.cat((s2, c0[2], c1[2]), 1))
        x = self.up0(torch.cat((s3, c0[3], c1[3]), 1))
        x = self.up1(torch.cat((x, s2), 1))
        x = self.up2(torch.cat((x, s1), 1))
        x = self.up3(torch.cat((x, s0), 1))
        return torch.sigmoid(self.conv(x))
