"""`dis`: classical optical-flow interpolation, no learning and no weights.

OpenCV's DIS flow (medium preset) is computed in both directions on gray frames, turned into flows
from time t with Super SloMo's approximation, both frames are backward-warped to t and blended by
their distance in time. Flow runs on the CPU through numpy; the warping runs wherever the frames
are (CUDA included), and batches of any size work.
"""
from __future__ import annotations

from typing import Literal

import torch

from vnn_cli import FrameInterpolator, register_model
from vnn_cli.nn.dis_flow import dis_flows
from vnn_cli.core.model_api import ModelParams, as_time_tensor
from vnn_cli.nn.warp import backward_warp, flows_to_time


@register_model("dis")
class DisFlow(FrameInterpolator):
    any_time = True
    pad_multiple = 1
    default_weights = None

    class Params(ModelParams):
        preset: Literal["ultrafast", "fast", "medium"] = "medium"

    def forward(self, frame0: torch.Tensor, frame1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        t = as_time_tensor(t, frame0)
        flow01, flow10 = dis_flows(frame0, frame1, self.params.preset)
        flow_t0, flow_t1 = flows_to_time(flow01, flow10, t)
        warped0 = backward_warp(frame0, flow_t0)
        warped1 = backward_warp(frame1, flow_t1)
        return (1 - t) * warped0 + t * warped1
