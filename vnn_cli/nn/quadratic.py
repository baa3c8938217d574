"""Quadratic motion (Xu et al., "Quadratic Video Interpolation", NeurIPS 2019): given the frames
before and after a pair, each pixel's path is fitted through three frames, so what speeds up or
slows down lands where it really is at t, not where steady motion puts it.

`acceleration_fields` says how far that moves the flows from t; `shift_along` reads it along any
flows from t (DIS's for the DIS interpolation, RIFE's own for RIFE).
"""
from __future__ import annotations

import torch

from .dis_flow import RememberedFlows
from ..core.model_api import Neighbours
from .warp import backward_warp, mismatch

ACCELERATION_TRUST_PX = 4.0  # forward-backward mismatch (full-resolution pixels) beyond which a path is not fitted


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
    is fitted only where both of its flows are consistent forward and backward: elsewhere
    (occlusions, a neighbour across a cut) the pixel keeps steady motion. `doubts`: the
    forward-backward mismatches of `flow01` and `flow10`, if already computed."""
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
        to_neighbour, from_neighbour = memory(frame, neighbour, preset), memory(neighbour, frame, preset)
        trusted = ((doubt * scale < ACCELERATION_TRUST_PX)
                   & (mismatch(to_neighbour, from_neighbour) * scale < ACCELERATION_TRUST_PX))
        change = (path(flow_out, to_neighbour, s, gap) - s * flow_out) * trusted
        fields[side] = -share * change
    return torch.cat(fields, dim=1)


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
