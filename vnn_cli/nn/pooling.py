"""Frames reduced by block averages (2×2, 4×4, ...): what DIS and the self-grading see.

torch's `avg_pool2d` and `interpolate(mode="area")` take 3-7 ms to halve a 1280×736 frame laid
out channels_last (as vnn runs frames on a CPU); adding the four pixels of each block as strided
views of the same memory takes about 1 ms, with the same result to float rounding.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def block_mean(x: torch.Tensor, factor: int) -> torch.Tensor:
    """N×C×H×W -> the mean of each `factor`×`factor` block. Where H or W is not a multiple of
    `factor`, a block cut by the right or bottom edge averages the pixels it has."""
    if factor == 1:
        return x
    height, width = x.shape[-2:]
    if height % factor or width % factor or factor & (factor - 1):
        return F.avg_pool2d(x, factor, ceil_mode=True)
    while factor > 1:
        x = _halved(x)
        factor //= 2
    return x


def _halved(x: torch.Tensor) -> torch.Tensor:
    n, c, h, w = x.shape
    if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
        pixels = x.permute(0, 2, 3, 1).view(n, h // 2, 2, w // 2, 2, c)
        rows = pixels[:, :, 0] + pixels[:, :, 1]
        return ((rows[:, :, :, 0] + rows[:, :, :, 1]) * 0.25).permute(0, 3, 1, 2)
    if x.is_contiguous():
        pixels = x.view(n, c, h // 2, 2, w // 2, 2)
        rows = pixels[:, :, :, 0] + pixels[:, :, :, 1]
        return (rows[..., 0] + rows[..., 1]) * 0.25
    return F.avg_pool2d(x, 2)
