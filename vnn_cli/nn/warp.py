"""Backward warping and the flow arithmetic the flow-based models share.

Flows are N×2×H×W tensors in pixels, (x, y) order: `flow[:, :, y, x]` says where pixel (x, y) of the
target finds its colour in the source. Flows between the two input frames are turned into flows
from time t with Super SloMo's linear-motion approximation (Jiang et al., 2018).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

_GRIDS: dict[tuple, torch.Tensor] = {}


def _base_grid(height: int, width: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """1×H×W×2 pixel centres in grid_sample's [-1, 1] units (align_corners=True), cached: building
    it costs as much as a warp."""
    key = (height, width, device, dtype)
    grid = _GRIDS.get(key)
    if grid is None:
        ys = torch.linspace(-1.0, 1.0, height, device=device, dtype=dtype) if height > 1 else torch.zeros(1, device=device, dtype=dtype)
        xs = torch.linspace(-1.0, 1.0, width, device=device, dtype=dtype) if width > 1 else torch.zeros(1, device=device, dtype=dtype)
        grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1)[None]
        if len(_GRIDS) > 16:
            _GRIDS.clear()
        _GRIDS[key] = grid
    return grid


def backward_warp(image: torch.Tensor, flow: torch.Tensor, flow_scale: tuple[float, float] = (1.0, 1.0)) -> torch.Tensor:
    """Sample `image` (N×C×H×W) at each pixel plus `flow` (N×2×H×W) times `flow_scale` (x, y),
    bilinear, borders repeated. The scale lets a caller use a flow measured at another resolution
    without another full-size pass over it."""
    _, _, height, width = image.shape
    # Sampling positions in float32 always: bf16/fp16 cannot address pixels of a wide frame exactly.
    to_grid = torch.tensor([flow_scale[0] * 2.0 / max(width - 1, 1), flow_scale[1] * 2.0 / max(height - 1, 1)],
                           device=flow.device, dtype=torch.float32)
    grid = torch.addcmul(_base_grid(height, width, flow.device, torch.float32), flow.permute(0, 2, 3, 1).float(), to_grid)
    if image.dtype == torch.float32:
        return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)
    return F.grid_sample(image.float(), grid, mode="bilinear", padding_mode="border", align_corners=True).to(image.dtype)


def inside_frame(flow: torch.Tensor) -> torch.Tensor:
    """N×1×H×W: 1 where `flow` samples inside the frame, 0 where it points out of the picture
    (content that entered or left the view, which a backward warp can only smear from the border)."""
    _, _, height, width = flow.shape
    to_grid = torch.tensor([2.0 / max(width - 1, 1), 2.0 / max(height - 1, 1)], device=flow.device, dtype=torch.float32)
    grid = torch.addcmul(_base_grid(height, width, flow.device, torch.float32), flow.permute(0, 2, 3, 1).float(), to_grid)
    return (grid.abs() <= 1.0).all(dim=-1)[:, None].to(flow.dtype)


def mismatch(flow_ab: torch.Tensor, flow_ba: torch.Tensor) -> torch.Tensor:
    """N×1×H×W: how far a pixel of a lands from where it started after going to b and back
    (occluded or mismatched where it is large)."""
    return (flow_ab + backward_warp(flow_ba, flow_ab)).norm(dim=1, keepdim=True)


def resized(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Maps of a few channels (flows, weights, doubts) resized bilinearly to (H, W), laid out NCHW
    first: torch's bilinear kernel is 2-3× slower on channels_last tensors of so few channels."""
    if maps.shape[-2:] == tuple(size):
        return maps
    return F.interpolate(maps.contiguous(), size=size, mode="bilinear", align_corners=False)


def resize_flow(flow: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize to (H, W), with the vectors scaled to the new pixel units (N×2k×H×W: k flows)."""
    height, width = flow.shape[-2:]
    if (height, width) == tuple(size):
        return flow
    resized_flow = resized(flow, size)
    scale = torch.tensor([size[1] / width, size[0] / height], device=flow.device, dtype=flow.dtype)
    return resized_flow * scale.repeat(flow.shape[1] // 2).view(1, -1, 1, 1)  # several flows stacked: (x, y, x, y...)


def flows_to_time(flow01: torch.Tensor, flow10: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(F_t→0, F_t→1) from the flows between the frames, assuming straight, steady motion.

    `t` broadcasts against the flows (N×1×1×1). F_t→0 = -(1-t)·t·F_0→1 + t²·F_1→0 and
    F_t→1 = (1-t)²·F_0→1 - t·(1-t)·F_1→0.
    """
    flow_t0 = -(1 - t) * t * flow01 + t * t * flow10
    flow_t1 = (1 - t) * (1 - t) * flow01 - t * (1 - t) * flow10
    return flow_t0, flow_t1
