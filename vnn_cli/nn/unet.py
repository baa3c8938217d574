"""The one U-Net core that every neural model plugin builds on.

Encoder levels halve the resolution with stride-2 convolutions, the decoder doubles it with
transposed convolutions and concatenates the encoder's features of the same size (Ronneberger et
al., 2015). Depth, widths, activation and normalisation are arguments, so the seed's 3M-weight
direct-synthesis network and a flow model's small refinement heads are both one class.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn

_ACTIVATIONS: dict[str, Callable[[int], nn.Module]] = {
    "relu": lambda c: nn.ReLU(inplace=True),
    "leaky_relu": lambda c: nn.LeakyReLU(0.1, inplace=True),
    "prelu": lambda c: nn.PReLU(c),
    "gelu": lambda c: nn.GELU(),
    "silu": lambda c: nn.SiLU(inplace=True),
}
_NORMS: dict[str, Callable[[int], nn.Module]] = {
    "none": lambda c: nn.Identity(),
    "batch": lambda c: nn.BatchNorm2d(c),
    "instance": lambda c: nn.InstanceNorm2d(c, affine=True),
    "group": lambda c: nn.GroupNorm(min(8, c), c),
}


def activation(name: str, channels: int) -> nn.Module:
    try:
        return _ACTIVATIONS[name](channels)
    except KeyError:
        raise ValueError(f"unknown activation '{name}'; known: {', '.join(_ACTIVATIONS)}") from None


def conv_block(cin: int, cout: int, act: str = "relu", norm: str = "none", stride: int = 1) -> nn.Sequential:
    if norm not in _NORMS:
        raise ValueError(f"unknown normalisation '{norm}'; known: {', '.join(_NORMS)}")
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=norm == "none"),
        _NORMS[norm](cout),
        activation(act, cout),
    )


class UNet(nn.Module):
    """in_channels -> out_channels at the same resolution; H and W must divide by 2**(len(widths)-1)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        widths: Sequence[int] = (64, 128, 256),
        convs_per_level: int = 2,
        bottleneck_convs: int = 0,
        act: str = "relu",
        norm: str = "none",
    ):
        super().__init__()
        widths = list(widths)
        self.downsampling = 2 ** (len(widths) - 1)
        self.encoder = nn.ModuleList()
        cin = in_channels
        for level, width in enumerate(widths):
            layers = [conv_block(cin, width, act, norm, stride=1 if level == 0 else 2)]
            layers += [conv_block(width, width, act, norm) for _ in range(convs_per_level - 1)]
            self.encoder.append(nn.Sequential(*layers))
            cin = width
        self.bottleneck = nn.Sequential(*[conv_block(widths[-1], widths[-1], act, norm) for _ in range(bottleneck_convs)])
        self.upsample = nn.ModuleList()
        self.decoder = nn.ModuleList()
        for deep, shallow in zip(widths[:0:-1], widths[-2::-1]):
            self.upsample.append(nn.ConvTranspose2d(deep, shallow, 2, stride=2))
            layers = [conv_block(2 * shallow, shallow, act, norm)]
            layers += [conv_block(shallow, shallow, act, norm) for _ in range(convs_per_level - 1)]
            self.decoder.append(nn.Sequential(*layers))
        self.head = nn.Conv2d(widths[0], out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for level in self.encoder:
            x = level(x)
            skips.append(x)
        x = self.bottleneck(x)
        for up, dec, skip in zip(self.upsample, self.decoder, reversed(skips[:-1])):
            x = dec(torch.cat([up(x), skip], dim=1))
        return self.head(x)
