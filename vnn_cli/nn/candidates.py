"""The two candidate in-between frames that the fusion model weighs against each other.

- Classical: OpenCV DIS flow both ways (at full resolution up to `max_width`, reduced above, for
  speed), turned into flows from time t (Super SloMo's approximation), both frames backward-warped,
  blended with a border-aware mask: away from a frame where the motion points out of the picture.
- RIFE: IFNet's flows from t = 0.5, its fusion mask and both warped frames.

Given the frames before and after the pair, the classical candidate fits each pixel's motion
through three frames (quadratic motion), and RIFE's flows are moved by the same amount.

They fail differently (DIS on fast non-rigid motion and low texture, RIFE on noise and some
camera shake), which is the room a learned per-pixel choice has.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .dis_flow import RememberedFlows
from ..core.model_api import Neighbours
from .warp import backward_warp, flows_to_time, inside_frame, resize_flow


@dataclass
class Candidate:
    warped0: torch.Tensor  # frame 0 warped to t (N×3×H×W)
    warped1: torch.Tensor
    weight0: torch.Tensor  # frame 0's share in the blend, N×1×H×W in [0, 1]
    unreliable: torch.Tensor  # N×1×H×W, 0 where the motion is self-consistent, growing with doubt
    # N×4×H×W, quadratic motion: how far it moves the flows from t of a pixel at t that comes from
    # each place of frame 0 (channels 0-1) and of frame 1 (2-3); read along any flows from t.
    acceleration: torch.Tensor | None = None

    @property
    def frame(self) -> torch.Tensor:
        return torch.lerp(self.warped1, self.warped0, self.weight0)


def dis_scale(width: int, max_width: int) -> int:
    """Power of two by which DIS runs below full resolution so the width is at most `max_width`."""
    scale = 1
    while max_width and width / scale > max_width:
        scale *= 2
    return scale


def _pooled(frame: torch.Tensor, scale: int) -> torch.Tensor:
    return frame if scale == 1 else F.avg_pool2d(frame, scale, ceil_mode=True)


def classical(frame0: torch.Tensor, frame1: torch.Tensor, t: torch.Tensor, preset: str = "medium",
              max_width: int = 1024, neighbours: Neighbours | None = None,
              memory: RememberedFlows | None = None) -> Candidate:
    """DIS interpolation at `t` (N×1×1×1) with forward-backward inconsistency as its doubt. With
    `neighbours` (the frames before and after the pair), each pixel's path is fitted through three
    frames: it may speed up or slow down (`Candidate.acceleration` holds what that moves). `memory`: the
    caller's memory of flows already computed (a video's consecutive pairs share two of four)."""
    height, width = frame0.shape[-2:]
    scale = dis_scale(width, max_width)
    small0, small1 = _pooled(frame0, scale), _pooled(frame1, scale)
    memory = memory or RememberedFlows()
    flow01, flow10 = memory(small0, small1, preset), memory(small1, small0, preset)
    # A pixel whose forward and backward motion do not cancel is occluded or mismatched.
    doubts = mismatch(flow01, flow10), mismatch(flow10, flow01)
    # Everything at DIS's size, one resize to the frame's at the end (all of it is linear).
    flow_t0, flow_t1 = flows_to_time(flow01, flow10, t)
    fields = [flow_t0, flow_t1]
    if neighbours:
        acceleration = acceleration_fields(small0, small1, flow01, flow10, t, neighbours, scale, preset, memory, doubts)
        shift = shift_along(acceleration, flow_t0, flow_t1)
        fields = [flow_t0 + shift, flow_t1 + shift, acceleration]
    full = resize_flow(torch.cat(fields, dim=1), (height, width))
    return _compose(frame0, frame1, t, full[:, 0:2], full[:, 2:4], doubts, fields[0:2], scale,
                    full[:, 4:8] if neighbours else None)


ACCELERATION_TRUST_PX = 4.0  # forward-backward mismatch (full-resolution pixels) beyond which a path is not fitted


def acceleration_fields(small0: torch.Tensor, small1: torch.Tensor, flow01: torch.Tensor, flow10: torch.Tensor,
                       t: torch.Tensor, neighbours: Neighbours, scale: int, preset: str = "medium",
                       memory: RememberedFlows | None = None,
                       doubts: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """What quadratic motion changes in the flows from t (Xu et al., "Quadratic Video
    Interpolation", 2019), N×4 at the size of the flows between the pair's frames (`small0`,
    `small1`: the frames `scale` times reduced, as DIS saw them), on each frame's own pixel grid
    (channels 0-1: frame 0's, 2-3: frame 1's); `shift_along` reads them where a pixel at t comes
    from. Each frame's pixel path to t is fitted through its flows to the other frame and to its
    own neighbour; with Super SloMo's approximation, both flows from t move by minus the
    (t-weighted) change of those paths. A path is fitted only where both of its flows are
    consistent forward and backward: elsewhere (occlusions, a neighbour across a cut) the pixel
    keeps steady motion. `doubts`: the forward-backward mismatches of `flow01` and `flow10`, if
    already computed."""
    memory = memory or RememberedFlows()
    doubt0, doubt1 = doubts or (mismatch(flow01, flow10), mismatch(flow10, flow01))
    fields = [torch.zeros_like(flow01), torch.zeros_like(flow01)]
    # Per side: which side, the pair's frame, its flow to the other frame and that flow's doubt,
    # its neighbour and how many intervals away that is, the time to reach (from this frame), and
    # this side's share of the shift (Super SloMo's weights).
    sides = []
    if neighbours.before is not None:
        sides.append((0, small0, flow01, doubt0, neighbours.before, -neighbours.before_at, t, 1 - t))
    if neighbours.after is not None:
        sides.append((1, small1, flow10, doubt1, neighbours.after, neighbours.after_at - 1, 1 - t, t))
    for side, frame, flow_out, doubt, neighbour, gap, s, share in sides:
        reduced = _pooled(neighbour, scale)
        to_neighbour, from_neighbour = memory(frame, reduced, preset), memory(reduced, frame, preset)
        trusted = ((doubt * scale < ACCELERATION_TRUST_PX)
                   & (mismatch(to_neighbour, from_neighbour) * scale < ACCELERATION_TRUST_PX))
        change = (path(flow_out, to_neighbour, s, gap) - s * flow_out) * trusted
        fields[side] = -share * change
    return torch.cat(fields, dim=1)


def shift_along(acceleration: torch.Tensor, flow_t0: torch.Tensor, flow_t1: torch.Tensor) -> torch.Tensor:
    """N×2: how far quadratic motion moves both flows from t, read from `acceleration` (see
    `acceleration_fields`) where each pixel at t comes from along these flows: DIS's own for the
    classical candidate, RIFE's for RIFE's (read along DIS's there, it lost 1.6 dB on coin)."""
    return backward_warp(acceleration[:, 0:2], flow_t0) + backward_warp(acceleration[:, 2:4], flow_t1)


def mismatch(flow_ab: torch.Tensor, flow_ba: torch.Tensor) -> torch.Tensor:
    """N×1×H×W: how far a pixel of a lands from where it started after going to b and back."""
    return (flow_ab + backward_warp(flow_ba, flow_ab)).norm(dim=1, keepdim=True)


def path(flow_next: torch.Tensor, flow_prev: torch.Tensor, s, gap: float = 1.0) -> torch.Tensor:
    """Displacement at time s (0: the pixel's own frame, 1: the next frame) of a pixel that moves
    by `flow_next` to the next frame and by `flow_prev` to the previous one, `gap` intervals back,
    on a parabola: x(s) = v·s + a·s²/2 through (1, flow_next) and (-gap, flow_prev)."""
    acceleration = 2 * (flow_prev + gap * flow_next) / (gap * (1 + gap))
    velocity = flow_next - acceleration / 2
    return velocity * s + acceleration * (s * s / 2)


def _compose(frame0, frame1, t, flow_t0, flow_t1, doubts, small_flows, scale, acceleration=None) -> Candidate:
    """Both frames warped to t, blended with the border-aware mask; `doubts`, the forward-backward
    mismatch of the (reduced) flows between them, carried to t (at DIS's size, along
    `small_flows`, the flows from t there) as the candidate's doubt."""
    height, width = frame0.shape[-2:]
    warped0, warped1 = backward_warp(frame0, flow_t0), backward_warp(frame1, flow_t1)
    seen0 = (1 - t) * inside_frame(flow_t0) + 1e-3
    seen1 = t * inside_frame(flow_t1) + 1e-3
    doubt = torch.maximum(backward_warp(doubts[0], small_flows[0]), backward_warp(doubts[1], small_flows[1])) * scale
    if scale != 1:
        doubt = F.interpolate(doubt, size=(height, width), mode="bilinear", align_corners=False)
    return Candidate(warped0, warped1, seen0 / (seen0 + seen1), torch.log1p(doubt), acceleration)


def learned(rife, frame0: torch.Tensor, frame1: torch.Tensor, scale: float | None = None,
            flip: bool = False, acceleration: torch.Tensor | None = None) -> Candidate:
    """RIFE's interpolation at t = 0.5 (`rife`: the `rife` model plugin). With `flip`, also on the
    mirrored frames, mirrored back and averaged (test-time augmentation: twice the cost).
    `acceleration` (the classical candidate's, from quadratic motion) moves RIFE's flows from t
    along RIFE's own flows: RIFE assumes steady motion and knows nothing of the frames around
    the pair."""
    _, mask, warped0, warped1 = rife.estimate(frame0, frame1, scale, acceleration)
    weight0 = torch.sigmoid(mask)
    if flip:
        mirrored = None
        if acceleration is not None:  # mirrored fields: x components change sign
            mirrored = acceleration.flip(-1) * acceleration.new_tensor([-1.0, 1.0, -1.0, 1.0]).view(1, 4, 1, 1)
        _, mask_f, warped0_f, warped1_f = (x.flip(-1) for x in rife.estimate(frame0.flip(-1), frame1.flip(-1), scale, mirrored))
        warped0, warped1 = (warped0 + warped0_f) / 2, (warped1 + warped1_f) / 2
        weight0 = (weight0 + torch.sigmoid(mask_f)) / 2
    # RIFE's own doubt: how much its two warped frames disagree.
    unreliable = (warped0 - warped1).abs().mean(dim=1, keepdim=True)
    return Candidate(warped0, warped1, weight0, unreliable)
