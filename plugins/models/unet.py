"""`unet`: the seed project's direct-synthesis network, kept as the baseline to beat.

The two RGB frames are concatenated into 6 channels and a U-Net (encoder 64-128-256 with stride-2
convolutions, transposed-convolution decoder with skip connections) writes the middle frame
directly, about 3 million weights. It only knows t = 0.5: other times come from bisection.
"""
from typing import Literal

import torch

from vnn_cli import FrameInterpolator, UNet, register_model
from vnn_cli.core.model_api import ModelParams


@register_model("unet")
class SeedUNet(FrameInterpolator):
    any_time = False
    pad_multiple = 4
    default_weights = "unet"

    class Params(ModelParams):
        widths: tuple[int, ...] = (64, 128, 256)
        convs_per_level: int = 2
        bottleneck_convs: int = 2
        act: Literal["relu", "leaky_relu", "prelu", "gelu", "silu"] = "relu"
        norm: Literal["none", "batch", "instance", "group"] = "none"
        residual: bool = False  # True: predict the offset from the blend instead of the frame itself

    def __init__(self, **params):
        super().__init__(**params)
        p = self.params
        self.net = UNet(6, 3, p.widths, p.convs_per_level, p.bottleneck_convs, p.act, p.norm)
        self.pad_multiple = self.net.downsampling

    def forward(self, frame0: torch.Tensor, frame1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        out = self.net(torch.cat([frame0, frame1], dim=1))
        return out + 0.5 * (frame0 + frame1) if self.params.residual else out
