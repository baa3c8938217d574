"""The optical flow between two frames' gray thumbnails (OpenCV DIS, about a millisecond a pair):
the one cheap flow that the scene-cut rule and the fallback judge both measure with."""
from __future__ import annotations

from functools import cached_property

import cv2
import numpy as np

from .dedup import gray_thumbnail

FLOW_WIDTH = 192
MIN_FLOW_SIDE = 16  # DIS needs at least 12 pixels a side; below this there is no flow to trust


def _8bit(gray: np.ndarray) -> np.ndarray:
    return np.clip(gray + 0.5, 0, 255).astype(np.uint8)


class ThumbnailFlow:
    """Gray thumbnails of two frames at most `width` wide (`first`, `second`, float32 in 8-bit
    levels) and the flows between them in thumbnail pixels, each computed when first asked: a
    pair's safeguards share one, and a rule that does not run costs nothing."""

    def __init__(self, frame0: np.ndarray, frame1: np.ndarray, width: int = FLOW_WIDTH):
        self._frames = (frame0, frame1)
        self._width = width

    @cached_property
    def first(self) -> np.ndarray:
        return gray_thumbnail(self._frames[0], self._width)

    @cached_property
    def second(self) -> np.ndarray:
        return gray_thumbnail(self._frames[1], self._width)

    @property
    def scale(self) -> float:
        """Full-resolution pixels per thumbnail pixel."""
        return self._frames[0].shape[1] / self.first.shape[1]

    @property
    def flowable(self) -> bool:
        """Whether the thumbnails are large enough, and alike enough, for a flow."""
        return min(self.first.shape) >= MIN_FLOW_SIDE and self.first.shape == self.second.shape

    @cached_property
    def _engine(self):
        return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)

    @cached_property
    def forward(self) -> np.ndarray:
        """H×W×2: where each pixel of `first` moved to in `second`."""
        return self._engine.calc(_8bit(self.first), _8bit(self.second), None)

    @cached_property
    def backward(self) -> np.ndarray:
        return self._engine.calc(_8bit(self.second), _8bit(self.first), None)

    @cached_property
    def targets(self) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) in `second` of each pixel of `first`, by the forward flow."""
        h, w = self.first.shape
        xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        return xs + self.forward[..., 0], ys + self.forward[..., 1]

    def pulled(self, image: np.ndarray) -> np.ndarray:
        """`image` (laid out as `second`) sampled at the targets: brought onto `first`."""
        map_x, map_y = self.targets
        return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def warped_back(self) -> np.ndarray:
        """`second` warped back onto `first`: the motion explained away."""
        return self.pulled(self.second)
