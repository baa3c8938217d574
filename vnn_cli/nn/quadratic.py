"""Quadratic motion (Xu et al., "Quadratic Video Interpolation", NeurIPS 2019): given the frames
before and after a pair, each pixel's path is fitted through three frames, so what speeds up or
slows down lands where it really is at t, not where steady motion puts it. A path is fitted only
where the frames bear it out: its flows consistent both ways, and the neighbour's own warp error
not much worse than the pair's, cell by cell and over the frame (`evidence_holds`), so that a
neighbour across a change the scene-cut detector lets through (a flash, a jolt) keeps steady
motion instead of bending it.

`acceleration_fields` says how far that moves the flows from t; `shift_along` reads it along any
flows from t (DIS's for the DIS interpolation, RIFE's own for RIFE).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .dis_flow import RememberedFlows, luma
from ..core.model_api import Neighbours
from .warp import backward_warp, mismatch

ACCELERATION_TRUST_PX = 4.0  # forward-backward mismatch (full-resolution pixels) beyond which a path is not fitted
# The evidence check (`evidence_holds`): warp errors in 8-bit levels of luma on DIS's grid, mean
# absolute over cells of GUARD_CELL x GUARD_CELL pixels (a pixel's error says more with its
# surroundings, and noise averages out). Chosen on the tuning clips only
# (docs/experiments/quadratic_guard.md): a tighter per-cell rule only cost there (megamind most),
# and the per-frame rule fired only on neighbours across cuts that the scene-cut detector flags.
GUARD_CELL = 4
GUARD_RATIO = 6.0  # per cell: no path where the neighbour's error exceeds GUARD_RATIO times the pair's ...
GUARD_SLACK = 8.0  # ... plus GUARD_SLACK levels ...
GUARD_MAX = 96.0  # ... or GUARD_MAX levels, whatever the pair's
FRAME_RATIO = 2.0  # per frame: no path on a side whose mean error exceeds FRAME_RATIO times the pair's ...
FRAME_SLACK = 2.0  # ... plus FRAME_SLACK levels (the neighbour lies across a change)


def acceleration_fields(small0: torch.Tensor, small1: torch.Tensor, flow01: torch.Tensor, flow10: torch.Tensor,
                        t: torch.Tensor, neighbours: Neighbours, scale: int, preset: str = "medium",
                        memory: RememberedFlows | None = None,
                        doubts: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """What quadratic motion changes in the flows from t, N×4 at the size of the flows between
    the pair's frames (`small0`, `small1`, and `neighbours` too: the frames `scale` times reduced,
    as DIS saw them), on each frame's own pixel grid (channels 0-1: frame 0's, 2-3: frame 1's);
    `shift_along` reads them where a pixel at t comes from. Each frame's pixel path to t is fitted
    through its flows to the other frame and to its own neighbour; with Super SloMo's
    approximation, both flows from t move by minus the (t-weighted) change of those paths. A path
    is fitted only where both of its flows are consistent forward and backward and where the
    neighbour's own warp error bears the flow to it out (`evidence_holds`): elsewhere (occlusions,
    a neighbour across a cut, a flash or a jolt) the pixel keeps steady motion. `doubts`: the
    forward-backward mismatches of `flow01` and `flow10`, if already computed."""
    memory = memory or RememberedFlows()
    doubt0, doubt1 = doubts or (mismatch(flow01, flow10), mismatch(flow10, flow01))
    fields = [torch.zeros_like(flow01), torch.zeros_like(flow01)]
    # Per side: which side, the pair's frame, its luma and the other frame's (for the evidence
    # check), its flow to the other frame and that flow's doubt, its neighbour and how
    # many intervals away that is, the time to reach (from this frame), and this side's share of
    # the shift (Super SloMo's weights).
    gray0, gray1 = luma(small0), luma(small1)
    sides = []
    if neighbours.before is not None:
        sides.append((0, small0, gray0, gray1, flow01, doubt0, neighbours.before, -neighbours.before_at, t, 1 - t))
    if neighbours.after is not None:
        sides.append((1, small1, gray1, gray0, flow10, doubt1, neighbours.after, neighbours.after_at - 1, 1 - t, t))
    for side, frame, gray, other_gray, flow_out, doubt, neighbour, gap, s, share in sides:
        to_neighbour, from_neighbour = memory(frame, neighbour, preset), memory(neighbour, frame, preset)
        trusted = ((doubt * scale < ACCELERATION_TRUST_PX)
                   & (mismatch(to_neighbour, from_neighbour) * scale < ACCELERATION_TRUST_PX)
                   & evidence_holds(gray, other_gray, flow_out, luma(neighbour), to_neighbour))
        change = (path(flow_out, to_neighbour, s, gap) - s * flow_out) * trusted
        fields[side] = -share * change
    return torch.cat(fields, dim=1)


def evidence_holds(frame: torch.Tensor, other: torch.Tensor, flow_out: torch.Tensor, neighbour: torch.Tensor,
                   to_neighbour: torch.Tensor) -> torch.Tensor:
    """N×1×H×W bool: where a path from `frame` through `neighbour` may be fitted (the three frames
    as N×1×H×W luma in [0, 1], the flows on `frame`'s grid). The flow to the neighbour can be
    consistent both ways and still wrong (a flash, a jolt the scene-cut detector let through: DIS
    errs the same way in both directions); the neighbour warped along it then misses `frame`. Its
    error is held against the pair's own (`other`, the pair's other frame, warped along
    `flow_out`), which says what the picture allows there (noise, blur, occlusion): no path in a
    cell where it is much worse, or past an absolute bound; none on the whole side where it is much
    worse over the frame (the neighbour lies across a change)."""
    height, width = frame.shape[-2:]

    def cell_error(source: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:  # per cell, levels
        missed = (backward_warp(source, flow) - frame).abs() * 255
        return F.avg_pool2d(missed, GUARD_CELL, ceil_mode=True) if GUARD_CELL > 1 else missed

    own, theirs = cell_error(other, flow_out), cell_error(neighbour, to_neighbour)
    holds = (theirs <= GUARD_RATIO * own + GUARD_SLACK) & (theirs <= GUARD_MAX)
    mean_own, mean_theirs = (e.mean(dim=(1, 2, 3), keepdim=True) for e in (own, theirs))
    across = mean_theirs > FRAME_RATIO * mean_own + FRAME_SLACK
    holds = (holds & ~across).repeat_interleave(GUARD_CELL, dim=-2).repeat_interleave(GUARD_CELL, dim=-1)
    return holds[..., :height, :width]


def shift_along(acceleration: torch.Tensor, flow_t0: torch.Tensor, flow_t1: torch.Tensor) -> torch.Tensor:
    """N×2: how far quadratic motion moves both flows from t, read from `acceleration` (see
    `acceleration_fields`) where each pixel at t comes from along these flows: DIS's own for the
    DIS interpolation, RIFE's for RIFE's (read along DIS's there, it lost 1.6 dB on coin)."""
    return backward_warp(acceleration[:, 0:2], flow_t0) + backward_warp(acceleration[:, 2:4], flow_t1)


def path(flow_next: torch.Tensor, flow_prev: torch.Tensor, s, gap: float = 1.0) -> torch.Tensor:
    """Displacement at time s (0: the pixel's own frame, 1: the next frame) of a pixel that moves
    by `flow_next` to the next frame and by `flow_prev` to the previous one, `gap` intervals back,
    on a parabola: x(s) = v·s + a·s²/2 through (1, flow_next) and (-gap, flow_prev)."""
    acceleration = 2 * (flow_prev + gap * flow_next) / (gap * (1 + gap))
    velocity = flow_next - acceleration / 2
    return velocity * s + acceleration * (s * s / 2)
