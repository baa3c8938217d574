"""The in-between frames of the flow models: the one DIS interpolation, and RIFE's as a candidate.

- `classical`: OpenCV DIS flow both ways (at full resolution up to `max_width`, reduced above, for
  speed), turned into flows from time t (Super SloMo's approximation), both frames backward-warped,
  blended with a border-aware mask: away from a frame where the motion points out of the picture.
  It is the `dis` model (full resolution, blended by distance in time), the `fast` preset
  (`vnnflow`) and the first of the fusion's two candidates.
- `rife_candidate`: RIFE's interpolation (IFNet's flows from t = 0.5, its fusion mask and both warped
  frames), the fusion's second candidate.

Both carry their warped frames to the in-between's exposure (`exposed_at`), so a blend that leans on
one frame keeps a fade's brightness.

Given the frames before and after the pair, the classical candidate fits each pixel's motion
through three frames (quadratic motion, `vnn_cli.nn.quadratic`), and RIFE's flows are moved by the
same amount. The two fail differently (DIS on fast non-rigid motion and low texture, RIFE on noise
and some camera shake), which is the room the fusion's per-pixel blend has.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from .dis_flow import RememberedFlows
from ..core.model_api import Neighbours
from .pooling import block_mean
from .quadratic import acceleration_fields, shift_along
from .warp import backward_warp, flows_to_time, inside_frame, mismatch, resize_flow, resized

DIS_MAX_WIDTH = 1024  # wider frames go to DIS reduced: its time grows with the pixels, its accuracy barely


@dataclass
class Candidate:
    warped0: torch.Tensor  # frame 0 warped to t (N×3×H×W)
    warped1: torch.Tensor
    weight0: torch.Tensor  # frame 0's share in the blend, N×1×H×W in [0, 1]
    # N×1×H×W, 0 where the motion is self-consistent, growing with doubt (None: not asked for)
    unreliable: torch.Tensor | None = None
    # N×4×H×W, quadratic motion: how far it moves the flows from t of a pixel at t that comes from
    # each place of frame 0 (channels 0-1) and of frame 1 (2-3); read along any flows from t.
    acceleration: torch.Tensor | None = None

    @property
    def frame(self) -> torch.Tensor:
        return torch.lerp(self.warped1, self.warped0, self.weight0)


def dis_scale(width: int, max_width: int = DIS_MAX_WIDTH, max_scale: int | None = None) -> int:
    """Power of two by which DIS runs below full resolution: the least that brings the width to at
    most `max_width`, but no more than `max_scale`. `max_width` 0: no width rule, `max_scale`
    (None: full resolution)."""
    if not max_width:
        return max_scale or 1
    scale = 1
    while width / scale > max_width and (max_scale is None or scale < max_scale):
        scale *= 2
    return scale


def classical(frame0: torch.Tensor, frame1: torch.Tensor, t: torch.Tensor, preset: str = "medium",
              max_width: int = DIS_MAX_WIDTH, neighbours: Neighbours | None = None,
              memory: RememberedFlows | None = None, *, max_scale: int | None = None,
              border_aware: bool = True, frame_only: bool = False) -> Candidate:
    """DIS interpolation at `t` (N×1×1×1). DIS runs `dis_scale(width, max_width, max_scale)`
    times reduced; `preset` 'none' takes no motion at all. With `neighbours` (the frames before
    and after the pair), each pixel's path is fitted through three frames: it may speed up or slow
    down. `memory`: the caller's memory of flows already computed (a video's consecutive pairs
    share two of four). `border_aware`: frame 0's weight also falls where its motion points out of
    the picture; else it is 1 - t. `frame_only`: the candidate's frame is all that is wanted, not
    what the fusion also reads (`unreliable`, `acceleration`: full-size work the others skip)."""
    height, width = frame0.shape[-2:]
    scale = dis_scale(width, max_width, max_scale)
    small0, small1 = block_mean(frame0, scale), block_mean(frame1, scale)
    memory = memory or RememberedFlows()
    if preset == "none":
        flow01 = flow10 = small0.new_zeros(small0.shape[0], 2, *small0.shape[-2:])
        neighbours = None
    else:
        flow01, flow10 = memory(small0, small1, preset), memory(small1, small0, preset)
    # A pixel whose forward and backward motion do not cancel is occluded or mismatched.
    doubts = None if frame_only and not neighbours else (mismatch(flow01, flow10), mismatch(flow10, flow01))
    # Everything at DIS's size, one upsampling to the frame's at the end.
    flow_t0, flow_t1 = flows_to_time(flow01, flow10, t)
    acceleration = None
    if neighbours:
        # A batch of times of one pair: the same neighbours for each.
        around = neighbours.map(lambda x: block_mean(x, scale).expand(frame0.shape[0], -1, -1, -1))
        acceleration = acceleration_fields(small0, small1, flow01, flow10, t, around, scale, preset, memory, doubts)
        shift = shift_along(acceleration, flow_t0, flow_t1)
        flow_t0, flow_t1 = flow_t0 + shift, flow_t1 + shift
    size = (height, width)
    flows = resized(torch.cat([flow_t0, flow_t1], dim=1), size)
    to_full = (width / flow_t0.shape[-1], height / flow_t0.shape[-2])  # the flows' pixels to the frame's
    warped0, warped1 = backward_warp(frame0, flows[:, 0:2], to_full), backward_warp(frame1, flows[:, 2:4], to_full)
    if border_aware:
        seen0 = (1 - t) * inside_frame(flow_t0) + 1e-3
        seen1 = t * inside_frame(flow_t1) + 1e-3
        weight0 = torch.sigmoid(resized(torch.log(seen0 / seen1), size))
        warped0, warped1 = exposed_at(warped0, warped1, t)
    else:
        weight0 = (1 - t).expand(-1, 1, height, width)
    if frame_only:
        return Candidate(warped0, warped1, weight0)
    # The doubt carried to t, in the frame's pixels.
    doubt = torch.maximum(backward_warp(doubts[0], flow_t0), backward_warp(doubts[1], flow_t1)) * scale
    return Candidate(warped0, warped1, weight0, torch.log1p(resized(doubt, size)),
                     None if acceleration is None else resize_flow(acceleration, size))


def exposed_at(image0: torch.Tensor, image1: torch.Tensor, t: torch.Tensor | float) -> tuple[torch.Tensor, torch.Tensor]:
    """Both images (a pair's frames, or the two warped to t) carried to time t's exposure.

    In a fade the two frames differ in brightness. A blend that leans on one of them (where the
    other's motion leaves the picture, or where RIFE's mask trusts one side) takes that frame's
    brightness instead of the in-between's, and RIFE's flows go astray when the frames it matches
    differ in brightness. Per image and channel, image 1 ≈ gain·image 0 + offset, by matching means
    and spreads; each image moves its share of the way (t for image 0, 1 - t for image 1). The fit
    is trusted as far as the two images correlate: across a cut they show different pictures and
    are left nearly alone. A blend at weights (1 - t, t) changes by t(1-t)(gain-1) times the two
    images' disagreement: nothing in steady light."""
    sample0, sample1 = image0[..., ::4, ::4].float(), image1[..., ::4, ::4].float()  # statistics only
    mean0, mean1 = sample0.mean(dim=(-2, -1), keepdim=True), sample1.mean(dim=(-2, -1), keepdim=True)
    spread0 = sample0.std(dim=(-2, -1), keepdim=True, correction=0)
    spread1 = sample1.std(dim=(-2, -1), keepdim=True, correction=0)
    correlation = ((sample0 - mean0) * (sample1 - mean1)).mean(dim=(-2, -1), keepdim=True) / (
        spread0 * spread1).clamp_min(1e-6)
    trust = correlation.clamp(0, 1)
    gain = 1 + trust * ((spread1 / spread0.clamp_min(1e-3)).clamp(0.25, 4.0) - 1)
    offset = trust * (mean1 - gain * mean0)
    return (image0 + t * ((gain - 1) * image0 + offset),
            image1 - (1 - t) * (image1 - (image1 - offset) / gain))


def rife_candidate(rife, frame0: torch.Tensor, frame1: torch.Tensor, scale: float | None = None,
            flip: bool = False, acceleration: torch.Tensor | None = None, also: Sequence = ()) -> Candidate:
    """RIFE's interpolation at t = 0.5 (`rife`: the `rife` model plugin). With `flip`, also on the
    mirrored frames, mirrored back and averaged (test-time augmentation: twice the cost). `also`:
    more networks (the `rife-4.x` plugins), each run on the same frames and averaged in (an
    ensemble: the networks make different mistakes).
    `acceleration` (the classical candidate's, from quadratic motion) moves RIFE's flows from t
    along RIFE's own flows: RIFE assumes steady motion and knows nothing of the frames around
    the pair. Both the frames RIFE matches and the frames it warps are carried to the middle's
    exposure (`exposed_at`): in a fade RIFE's flows and mask go astray otherwise."""
    frame0, frame1 = exposed_at(frame0, frame1, 0.5)
    views = [_view(rife.estimate(frame0, frame1, scale=scale, acceleration=acceleration))]
    if flip:
        mirrored = None
        if acceleration is not None:  # mirrored fields: x components change sign
            mirrored = acceleration.flip(-1) * acceleration.new_tensor([-1.0, 1.0, -1.0, 1.0]).view(1, 4, 1, 1)
        estimate = rife.estimate(frame0.flip(-1), frame1.flip(-1), scale=scale, acceleration=mirrored)
        views.append(_view(tuple(x.flip(-1) for x in estimate)))
    for network in also:
        views.append(_view(network.estimate(frame0, frame1, scale=scale, acceleration=acceleration)))
    warped0, warped1, weight0 = (sum(parts) / len(views) for parts in zip(*views))
    # RIFE's own doubt: how much its two warped frames disagree.
    unreliable = (warped0 - warped1).abs().mean(dim=1, keepdim=True)
    return Candidate(warped0, warped1, weight0, unreliable)


def _view(estimate) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A network's (flows, mask logit, warped frames) -> both warped frames at the middle's
    exposure and frame 0's weight."""
    _, mask, warped0, warped1 = estimate
    warped0, warped1 = exposed_at(warped0, warped1, 0.5)
    return warped0, warped1, torch.sigmoid(mask)
