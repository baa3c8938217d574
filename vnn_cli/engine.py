"""Runs a model plugin on pairs of frames: padding, dtype, device, batching over times, and
recursive bisection for models that only know t = 0.5."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from .device import half_dtype
from .frames import crop, join_alpha, pad_to_multiple, split_alpha, to_numpy, to_tensor
from .model_api import FrameInterpolator


def bisection_depth(times: Sequence[float]) -> int:
    """Levels of halving needed so the dyadic grid k/2**L comes within half a step of every time."""
    finest = min(min(t, 1 - t) for t in times)
    return max(1, math.ceil(math.log2(1 / finest))) if finest > 0 else 1


class Interpolator:
    """`interpolator(frame0, frame1, [t, ...])` -> the frames at those times, as numpy arrays.

    Alpha is not interpolated: it is carried from the nearer input frame.
    """

    def __init__(self, model: FrameInterpolator, device: torch.device | str = "cpu", half: bool = False,
                 batch_size: int = 4):
        self.device = torch.device(device)
        self.dtype = half_dtype(self.device) if half else torch.float32
        self.model = model.to(self.device, self.dtype).eval()
        if self.device.type == "cpu" or self.device.type == "cuda":
            self.model = self.model.to(memory_format=torch.channels_last)
        self.batch_size = batch_size

    @torch.inference_mode()
    def predict(self, frame0: torch.Tensor, frame1: torch.Tensor, times: Sequence[float]) -> torch.Tensor:
        """Tensor in, tensor out: 1×3×H×W each, returns len(times)×3×H×W."""
        multiple = self.model.pad_multiple
        x0, size = pad_to_multiple(frame0, multiple)
        x1, _ = pad_to_multiple(frame1, multiple)
        if self.model.any_time:
            outputs = []
            for start in range(0, len(times), self.batch_size):
                chunk = list(times[start : start + self.batch_size])
                n = len(chunk)
                t = torch.tensor(chunk, device=self.device, dtype=self.dtype)
                out = self.model(x0.expand(n, -1, -1, -1), x1.expand(n, -1, -1, -1), t)
                outputs.append(out)
            return crop(torch.cat(outputs), size)
        return crop(self._bisect(x0, x1, times), size)

    def _bisect(self, x0: torch.Tensor, x1: torch.Tensor, times: Sequence[float]) -> torch.Tensor:
        depth = bisection_depth(times)
        steps = 2**depth
        grid: dict[int, torch.Tensor] = {0: x0, steps: x1}
        half = torch.full((1,), 0.5, device=self.device, dtype=self.dtype)
        span = steps
        while span > 1:  # fill the dyadic grid level by level
            for left in range(0, steps, span):
                grid[left + span // 2] = self.model(grid[left], grid[left + span], half)
            span //= 2
        picked = [grid[min(max(round(t * steps), 1), steps - 1)] for t in times]
        return torch.cat(picked)

    @torch.inference_mode()
    def __call__(self, frame0: np.ndarray, frame1: np.ndarray, times: Sequence[float]) -> list[np.ndarray]:
        colour0, alpha0 = split_alpha(frame0)
        colour1, alpha1 = split_alpha(frame1)
        x0 = to_tensor(colour0, self.device, self.dtype).contiguous(memory_format=torch.channels_last)
        x1 = to_tensor(colour1, self.device, self.dtype).contiguous(memory_format=torch.channels_last)
        colours = to_numpy(self.predict(x0, x1, times), frame0.dtype)
        return [join_alpha(c, alpha0 if t < 0.5 else alpha1, frame0) for c, t in zip(colours, times)]
