"""MimicMotion's PoseNet in plain torch, with the upstream parameter names.

Eight convolutions with SiLU between them (3x3 keeps the size, 4x4 stride 2 halves it; three
halvings = the VAE's factor 8), a 1x1 ``final_proj`` to the UNet's first block width (320 for
SVD-xt) that starts at zero, and a learned scalar ``scale`` (2.0 at init). Names
``conv_layers.{0,2,...,14}``, ``final_proj``, ``scale`` load ``MimicMotion_1-1.pth``'s
``pose_net.*`` tensors and the wrapper's ``mimic_motion_pose_net.safetensors`` unchanged.
205,557 parameters at 320 output channels.

Its output is added to the output of the UNet's ``conv_in`` (see :func:`add_pose_to_conv_in`):
the UNet itself stays diffusers' ``UNetSpatioTemporalConditionModel``.
"""
from __future__ import annotations

import contextlib
import math

import torch
from torch import nn

#: (in, out, kernel, stride) of the eight convolutions, in order.
CONVS = ((3, 3, 3, 1), (3, 16, 4, 2), (16, 16, 3, 1), (16, 32, 4, 2), (32, 32, 3, 1), (32, 64, 4, 2),
         (64, 64, 3, 1), (64, 128, 3, 1))
#: tensor names of a PoseNet state dict (without any ``pose_net.`` prefix)
KEYS = tuple(f"conv_layers.{2 * i}.{p}" for i in range(len(CONVS)) for p in ("weight", "bias")) + (
    "final_proj.weight", "final_proj.bias", "scale")


class PoseNet(nn.Module):
    """Pose images ``[F,3,H,W]`` (or ``[B,F,3,H,W]``) in -1..1 -> ``[F,C,H/8,W/8]`` latents."""

    def __init__(self, out_channels: int = 320):
        super().__init__()
        layers: list[nn.Module] = []
        for cin, cout, k, s in CONVS:
            layers += [nn.Conv2d(cin, cout, kernel_size=k, stride=s, padding=1), nn.SiLU()]
        self.conv_layers = nn.Sequential(*layers)
        self.final_proj = nn.Conv2d(128, out_channels, kernel_size=1)
        self.scale = nn.Parameter(torch.full((1,), 2.0))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """He-normal convolutions with zero bias, zero ``final_proj`` (training start)."""
        for m in self.conv_layers:
            if isinstance(m, nn.Conv2d):
                fan_in = m.kernel_size[0] * m.kernel_size[1] * m.in_channels
                nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / fan_in))
                nn.init.zeros_(m.bias)
        nn.init.zeros_(self.final_proj.weight)
        nn.init.zeros_(self.final_proj.bias)

    def forward(self, poses: torch.Tensor) -> torch.Tensor:
        if poses.ndim == 5:
            poses = poses.flatten(0, 1)
        return self.final_proj(self.conv_layers(poses)) * self.scale


def out_channels_of(shapes: dict) -> int:
    """Output width of a PoseNet from its tensor shapes (``final_proj.weight`` [C,128,1,1])."""
    return int(shapes["final_proj.weight"][0])


@contextlib.contextmanager
def add_pose_to_conv_in(unet, pose_latents: torch.Tensor | None):
    """While active, ``unet.conv_in``'s output gets ``pose_latents`` added (None: unchanged).

    A forward hook, removed on exit even after an error, so the UNet is never left altered.
    ``pose_latents`` must be ``[B*F, C, h, w]`` like ``conv_in``'s output.
    """
    if pose_latents is None:
        yield
        return
    handle = unet.conv_in.register_forward_hook(lambda _m, _inp, out: out + pose_latents)
    try:
        yield
    finally:
        handle.remove()
