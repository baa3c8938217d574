"""Scene-cut detection between consecutive frames.

The score compares small gray thumbnails of the two frames, each with its mean brightness removed:
their mean absolute difference divided by their contrast (mean absolute deviation). Within one
shot of the bundled real clips it stays under 0.07, even with camera pans; across cuts it is
0.7 to 1.0.
"""
from __future__ import annotations

import cv2
import numpy as np

from .frames import max_value

DEFAULT_THRESHOLD = 0.3
_THUMB = (64, 36)


def thumbnail(frame: np.ndarray) -> np.ndarray:
    scale = max_value(frame.dtype)
    gray = frame[:, :, :3].astype(np.float32).mean(axis=2) / scale if frame.ndim == 3 else frame.astype(np.float32) / scale
    return cv2.resize(gray, _THUMB, interpolation=cv2.INTER_AREA)


def cut_score(frame0: np.ndarray, frame1: np.ndarray) -> float:
    a, b = thumbnail(frame0), thumbnail(frame1)
    a, b = a - a.mean(), b - b.mean()
    return float(np.mean(np.abs(a - b)) / (np.mean(np.abs(a)) + np.mean(np.abs(b)) + 1e-3))


def is_scene_cut(frame0: np.ndarray, frame1: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> bool:
    """`threshold` 0 disables detection."""
    return threshold > 0 and cut_score(frame0, frame1) > threshold
