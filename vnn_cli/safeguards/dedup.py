"""Exact and near-duplicate frames: a variable rate padded to a constant one, animation on twos, a
stalled capture. A repeat carries no new motion, so it is dropped and the motion is interpolated
between the frames that really differ, each at the time it first appeared.

The score is the largest mean absolute difference over a 16×9 grid of cells of the two frames'
gray thumbnails (at most 256 pixels wide), in 8-bit levels. Measured: repeats in the bundled clips
score 0.1-0.3 (bigbuckbunny.mp4, coin.mov); repeats of a fine-grained texture re-encoded by x264 at
CRF 18 up to 1.35; the smallest real motion between distinct frames of the bundled clips 2.4
(bigbuckbunny.mp4), typically 5-30. The default threshold, 1.5, sits between.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..core.frames import max_value

DEFAULT_THRESHOLD = 1.5
_THUMB_WIDTH = 256
_GRID = (16, 9)


def gray_thumbnail(frame: np.ndarray, width: int = _THUMB_WIDTH) -> np.ndarray:
    """Gray float32 in 8-bit levels, at most `width` wide (area-averaged, so codec noise averages out)."""
    scale = 255.0 / max_value(frame.dtype)
    height, full_width = frame.shape[:2]
    if full_width > width:  # shrink first: the gray conversion then touches few pixels
        frame = cv2.resize(frame[:, :, :3] if frame.ndim == 3 else frame, (width, max(1, round(height * width / full_width))),
                           interpolation=cv2.INTER_AREA)
    gray = frame[:, :, :3].astype(np.float32).mean(axis=2) if frame.ndim == 3 else frame.astype(np.float32)
    return gray * scale


def duplicate_score(frame0: np.ndarray, frame1: np.ndarray) -> float:
    if frame0.shape != frame1.shape:
        return float("inf")
    if np.array_equal(frame0, frame1):
        return 0.0
    diff = np.abs(gray_thumbnail(frame0) - gray_thumbnail(frame1))
    cells = cv2.resize(diff, (min(_GRID[0], diff.shape[1]), min(_GRID[1], diff.shape[0])), interpolation=cv2.INTER_AREA)
    return float(cells.max())


def is_duplicate(frame0: np.ndarray, frame1: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> bool:
    """`threshold` 0 keeps only exact repeats out."""
    score = duplicate_score(frame0, frame1)
    return score == 0.0 or score < threshold
