"""`vnnflow`: the DIS interpolation with the border-aware mask, the `fast` preset; no learned layers.

OpenCV's DIS flow in both directions (at full resolution up to 1024 pixels wide, at half
resolution above, for speed), turned into flows from time t with Super SloMo's approximation; where
the video gives the frames before and after the pair, each pixel's path is fitted through them
(quadratic motion). Both frames are warped to t and blended with a mask that, away from the
distance in time, also leans away from a frame whose motion points out of the picture (camera
pans). All of it is `vnn_cli.nn.candidates.classical`, the one DIS interpolation. `dis_preset:
none` takes no motion at all. Any t in (0, 1).

Its former coarse-to-fine refinement networks scored the same trained as untrained, and were
removed: docs/experiments/vnnflow_stages.md.
"""
from __future__ import annotations

from typing import Literal

import torch

from vnn_cli import FrameInterpolator, register_model
from vnn_cli.core.errors import SettingsError
from vnn_cli.core.model_api import ModelParams, Neighbours, as_time_tensor
from vnn_cli.nn.candidates import classical
from vnn_cli.nn.dis_flow import RememberedFlows


@register_model("vnnflow")
class VnnFlow(FrameInterpolator):
    any_time = True
    uses_neighbours = True
    pad_multiple = 2  # `dis_scale`: DIS's reduced frames cover the frame exactly
    default_weights = None

    class Params(ModelParams):
        dis_preset: Literal["none", "ultrafast", "fast", "medium"] = "medium"
        dis_scale: int = 2  # DIS runs at most this much below full resolution (a power of two) ...
        dis_max_width: int = 1024  # ... and only as far down as brings the width to this (0: always dis_scale)
        border_aware: bool = True  # the mask leans away from frames whose motion leaves the picture
        neighbours: bool = True  # quadratic motion through the frames around the pair, where given

    def __init__(self, **params):
        super().__init__(**params)
        scale = self.params.dis_scale
        if scale < 1 or scale & (scale - 1):
            raise SettingsError(f"vnnflow: dis_scale must be a power of two, not {scale}")
        self.pad_multiple = scale
        self.flows = RememberedFlows()  # a video's consecutive pairs share flows (see `neighbours`)

    def forward(self, frame0: torch.Tensor, frame1: torch.Tensor, t: torch.Tensor,
                neighbours: Neighbours | None = None) -> torch.Tensor:
        p = self.params
        interpolation = classical(frame0, frame1, as_time_tensor(t, frame0), p.dis_preset, p.dis_max_width,
                                  neighbours if p.neighbours else None, self.flows, max_scale=p.dis_scale,
                                  border_aware=p.border_aware, frame_only=True)
        return interpolation.frame.clamp_(0, 1)
