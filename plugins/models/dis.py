"""`dis`: classical optical-flow interpolation, no learning and no weights.

OpenCV's DIS flow (medium preset) is computed in both directions on gray frames at full
resolution, turned into flows from time t with Super SloMo's approximation, both frames are
backward-warped to t and blended by their distance in time: `vnn_cli.nn.candidates.classical`,
the one DIS interpolation, in its plainest form. Flow runs on the CPU through numpy; the warping
runs wherever the frames are (CUDA included), and batches of any size work.
"""
from __future__ import annotations

from typing import Literal

import torch

from vnn_cli import FrameInterpolator, register_model
from vnn_cli.core.model_api import ModelParams, as_time_tensor
from vnn_cli.nn.candidates import classical


@register_model("dis")
class DisFlow(FrameInterpolator):
    any_time = True
    pad_multiple = 1
    default_weights = None

    class Params(ModelParams):
        preset: Literal["ultrafast", "fast", "medium"] = "medium"

    def forward(self, frame0: torch.Tensor, frame1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        interpolation = classical(frame0, frame1, as_time_tensor(t, frame0), self.params.preset, max_width=0,
                                  border_aware=False, frame_only=True)
        return interpolation.frame
