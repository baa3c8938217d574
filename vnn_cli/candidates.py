"""The two candidate in-between frames that the fusion model weighs against each other.

- Classical: OpenCV DIS flow both ways (at full resolution up to `max_width`, reduced above, for
  speed), turned into flows from time t (Super SloMo's approximation), both frames backward-warped,
  blended with a border-aware mask: away from a frame where the motion points out of the picture.
- RIFE: IFNet's flows from t = 0.5, its fusion mask and both warped frames.

They fail differently (DIS on fast non-rigid motion and low texture, RIFE on noise and some
camera shake), which is the room a learned per-pixel choice has.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .dis_flow import dis_flows
from .warp import backward_warp, flows_to_time, inside_frame, resize_flow


@dataclass
class Candidate:
    warped0: torch.Tensor  # frame 0 warped to t (N×3×H×W)
    warped1: torch.Tensor
    weight0: torch.Tensor  # frame 0's share in the blend, N×1×H×W in [0, 1]
    unreliable: torch.Tensor  # N×1×H×W, 0 where the motion is self-consistent, growing with doubt

    @property
    def frame(self) -> torch.Tensor:
        return torch.lerp(self.warped1, self.warped0, self.weight0)


def dis_scale(width: int, max_width: int) -> int:
    """Power of two by which DIS runs below full resolution so the width is at most `max_width`."""
    scale = 1
    while max_width and width / scale > max_width:
        scale *= 2
    return scale


def classical(frame0: torch.Tensor, frame1: torch.Tensor, t: torch.Tensor, preset: str = "medium",
              max_width: int = 1024) -> Candidate:
    """DIS interpolation at `t` (N×1×1×1) with forward-backward inconsistency as its doubt."""
    height, width = frame0.shape[-2:]
    scale = dis_scale(width, max_width)
    small0, small1 = (frame0, frame1) if scale == 1 else (F.avg_pool2d(frame0, scale, ceil_mode=True),
                                                             F.avg_pool2d(frame1, scale, ceil_mode=True))
    flow01, flow10 = dis_flows(small0, small1, preset)
    # A pixel whose forward and backward motion do not cancel is occluded or mismatched.
    doubt0 = (flow01 + backward_warp(flow10, flow01)).norm(dim=1, keepdim=True)
    doubt1 = (flow10 + backward_warp(flow01, flow10)).norm(dim=1, keepdim=True)
    flows = resize_flow(torch.cat([flow01, flow10], dim=1), (height, width))
    flow_t0, flow_t1 = flows_to_time(flows[:, 0:2], flows[:, 2:4], t)
    warped0, warped1 = backward_warp(frame0, flow_t0), backward_warp(frame1, flow_t1)
    seen0 = (1 - t) * inside_frame(flow_t0) + 1e-3
    seen1 = t * inside_frame(flow_t1) + 1e-3
    doubt = F.interpolate(torch.cat([doubt0, doubt1], dim=1) * scale, size=(height, width), mode="bilinear",
                          align_corners=False)
    unreliable = torch.log1p(torch.maximum(backward_warp(doubt[:, 0:1], flow_t0), backward_warp(doubt[:, 1:2], flow_t1)))
    return Candidate(warped0, warped1, seen0 / (seen0 + seen1), unreliable)


def learned(rife, frame0: torch.Tensor, frame1: torch.Tensor, scale: float | None = None,
            flip: bool = False) -> Candidate:
    """RIFE's interpolation at t = 0.5 (`rife`: the `rife` model plugin). With `flip`, also on the
    mirrored frames, mirrored back and averaged (test-time augmentation: twice the cost)."""
    flow, mask, warped0, warped1 = rife.estimate(frame0, frame1, scale)
    weight0 = torch.sigmoid(mask)
    if flip:
        _, mask_f, warped0_f, warped1_f = (x.flip(-1) for x in rife.estimate(frame0.flip(-1), frame1.flip(-1), scale))
        warped0, warped1 = (warped0 + warped0_f) / 2, (warped1 + warped1_f) / 2
        weight0 = (weight0 + torch.sigmoid(mask_f)) / 2
    # RIFE's own doubt: how much its two warped frames disagree.
    unreliable = (warped0 - warped1).abs().mean(dim=1, keepdim=True)
    return Candidate(warped0, warped1, weight0, unreliable)
