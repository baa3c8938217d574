"""`perceptual`: distance between VGG16 features of the prediction and the target (Johnson et al.,
2016), the seed's fix for the grey average that a per-pixel loss learns.

It needs VGG16 weights in torchvision's layout from a local file (setting `vgg_weights` or
$VNN_VGG_WEIGHTS); nothing is downloaded, and without a file it stops with a SettingsError that says
how to give one.
"""
from __future__ import annotations

import os
from typing import Literal, Sequence

import torch
from torch import nn

from vnn_cli import register_loss
from vnn_cli.core.errors import SettingsError
from vnn_cli.nn.vgg import DEFAULT_LAYERS, VGG16Features


class PerceptualLoss(nn.Module):
    """Mean over the chosen layers of the mean L1 (or squared) feature difference."""

    def __init__(self, vgg: VGG16Features, distance: Literal["l1", "mse"] = "l1"):
        super().__init__()
        if distance not in ("l1", "mse"):
            raise SettingsError(f"perceptual distance must be l1 or mse, not '{distance}'")
        self.vgg = vgg
        self.distance = distance

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        # The trainer moves the model, not necessarily the loss: follow the data.
        if self.vgg.mean.device != prediction.device:
            self.vgg.to(prediction.device)
        predicted = self.vgg(prediction)
        with torch.no_grad():
            wanted = self.vgg(target)
        total = prediction.new_zeros((), dtype=torch.float32)
        for name, features in predicted.items():
            difference = features.float() - wanted[name].float()
            total = total + (difference.abs().mean() if self.distance == "l1" else difference.pow(2).mean())
        return total / len(predicted)


@register_loss("perceptual")
def perceptual(
    vgg_weights: str | os.PathLike | None = None,
    layers: Sequence[str] = DEFAULT_LAYERS,
    distance: Literal["l1", "mse"] = "l1",
):
    """VGG16 feature distance at relu1_2, relu2_2, relu3_3 (relu4_3 on request)."""
    return PerceptualLoss(VGG16Features.from_file(vgg_weights, layers), distance)
