"""Scene-cut detection between consecutive frames.

The score compares small gray thumbnails of the two frames, each with its mean brightness removed:
their mean absolute difference divided by their contrast (mean absolute deviation). Within one
shot of the bundled real clips it averages under 0.07 and peaks at 0.36 (a bus passing close to the
camera in bikes.mp4); across their cuts it is 0.55 to 1.0.
"""
from __future__ import annotations

import cv2
import numpy as np

from .frames import max_value

DEFAULT_THRESHOLD = 0.45  # above fast motion (<= 0.36 in the bundled clips), below cuts (>= 0.55)
_THUMB = (64, 36)


def thumbnail(frame: np.ndarray) -> np.ndarray:
    scale = max_value(frame.dtype)
    if frame.ndim == 3:  # shrink first, then go gray: a few thousand pixels instead of millions
        frame = cv2.resize(np.ascontiguousarray(frame[:, :, :3]), _THUMB, interpolation=cv2.INTER_AREA)
        return frame.astype(np.float32).mean(axis=2) / scale
    return cv2.resize(frame.astype(np.float32) / scale, _THUMB, interpolation=cv2.INTER_AREA)


def cut_score(frame0: np.ndarray, frame1: np.ndarray) -> float:
    a, b = thumbnail(frame0), thumbnail(frame1)
    a, b = a - a.mean(), b - b.mean()
    return float(np.mean(np.abs(a - b)) / (np.mean(np.abs(a)) + np.mean(np.abs(b)) + 1e-3))


# Share of pixels without a consistent motion match above which a high score is a cut. On the
# bundled clips every real cut leaves at least 0.89 unmatched, while fast motion that lifts the
# score over 0.3 (a coin thrown across a table, a tree in wind, a pan in bikes.mp4) leaves at most
# 0.83 between consecutive frames.
CUT_UNMATCHED = 0.85


def is_scene_cut(frame0: np.ndarray, frame1: np.ndarray, threshold: float = DEFAULT_THRESHOLD,
                 motion_check: bool = False) -> bool:
    """`threshold` 0 disables detection. With `motion_check`, a pair over the threshold is a cut
    only if motion cannot explain it either (see `vnn_cli.fallback.estimate_motion`): fast motion
    changes the thumbnails as much as a cut does, but a flow still matches most of the picture."""
    if threshold <= 0 or cut_score(frame0, frame1) <= threshold:
        return False
    if not motion_check:
        return True
    from .fallback import estimate_motion

    return estimate_motion(frame0, frame1).occluded > CUT_UNMATCHED
