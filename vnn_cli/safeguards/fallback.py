"""Judge, before synthesizing, whether a model can be trusted on a pair of frames, and what to
show where it cannot.

The judge is model-agnostic and cheap: OpenCV's DIS flow in both directions on gray thumbnails at
most 192 pixels wide (about a millisecond a pair) gives
  - the motion: the 99th percentile of the flow's length, in full-resolution pixels;
  - the occluded share: pixels whose forward and backward flows disagree (no consistent match,
    so whatever a model draws there is guessed);
  - the residual: the mean error, in 8-bit levels, of frame 1 warped onto frame 0 where the flows
    agree (content that changes without moving: flashes, fades, dissolves).
A pair is not trusted when the motion exceeds what the model was trained on (its `max_motion`
attribute, in pixels at the resolution it sees, or a share of the frame width when it has none),
when the occluded share or the residual is too large, or when the model itself reports a low
confidence (an optional `confidence(frame0, frame1) -> N` method, values in [0, 1]).
Frames of an untrusted pair fall back to the blend of the two inputs weighted by t: never a
warping artifact, at worst a ghost, and on the drop-frame protocol a blend scores above the
repeated frame on every bundled clip.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import cv2
import numpy as np

from .dedup import gray_thumbnail
from .scenes import DEFAULT_THRESHOLD as DEFAULT_SCENE_THRESHOLD, is_scene_cut
from ..core.model_api import Neighbours

_WIDTH = 192
# Calibrated on the bundled clips with DIS flow as the model, drop-frame protocol at frame strides
# 1, 2, 4 and 8 (about 800 pairs): a flow beats the blend almost everywhere, even at a fifth of the
# frame width of motion, with 70% of the pixels unmatched or a 16-level residual, and no feature
# separates the few pairs where the blend wins. So the defaults sit beyond every pair seen there
# that is not a scene cut (largest: motion 0.53 of the width, 0.92 unmatched, residual 37 levels):
# the judge rejects only pairs where the match has failed outright, and a model narrows it with
# its own `max_motion` or `confidence`.
DEFAULT_MAX_MOTION_SHARE = 0.60  # of the frame width, when the model does not say
DEFAULT_MAX_OCCLUDED = 0.95
DEFAULT_MAX_RESIDUAL = 40.0
DEFAULT_MIN_CONFIDENCE = 0.5


@dataclass(frozen=True)
class MotionEstimate:
    motion: float  # 99th percentile flow length, full-resolution pixels
    occluded: float  # share of pixels in [0, 1]
    residual: float  # 8-bit levels


@dataclass(frozen=True)
class Verdict:
    trusted: bool
    reason: str | None = None


def _flow_engine():
    engine = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    return engine


def estimate_motion(frame0: np.ndarray, frame1: np.ndarray, width: int = _WIDTH) -> MotionEstimate:
    a = gray_thumbnail(frame0, width)
    b = gray_thumbnail(frame1, width)
    scale = frame0.shape[1] / a.shape[1]
    a8, b8 = np.clip(a + 0.5, 0, 255).astype(np.uint8), np.clip(b + 0.5, 0, 255).astype(np.uint8)
    engine = _flow_engine()
    forward = engine.calc(a8, b8, None)
    backward = engine.calc(b8, a8, None)
    h, w = a8.shape
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    map_x, map_y = xs + forward[..., 0], ys + forward[..., 1]
    back_at_target = cv2.remap(backward, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    round_trip = np.linalg.norm(forward + back_at_target, axis=2)
    length = np.linalg.norm(forward, axis=2)
    inside = (map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)
    consistent = (round_trip <= 0.75 + 0.1 * length) & inside
    occluded = 1.0 - float(consistent.mean())
    warped = cv2.remap(b, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    residual = float(np.abs(warped - a)[consistent].mean()) if consistent.any() else 255.0
    return MotionEstimate(float(np.percentile(length, 99)) * scale, occluded, residual)


@dataclass
class Judge:
    """`judge(frame0, frame1, confidence)` -> Verdict; `reasons` counts the pairs it rejected."""

    max_motion: float | None = None  # full-resolution pixels; None: a share of the width
    max_occluded: float = DEFAULT_MAX_OCCLUDED
    max_residual: float = DEFAULT_MAX_RESIDUAL
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    reasons: Counter = field(default_factory=Counter)

    def limit_for(self, width: int) -> float:
        return self.max_motion if self.max_motion is not None else DEFAULT_MAX_MOTION_SHARE * width

    def __call__(self, frame0: np.ndarray, frame1: np.ndarray, confidence: float | None = None) -> Verdict:
        verdict = self.judge(frame0, frame1, confidence)
        if not verdict.trusted:
            self.reasons[verdict.reason] += 1
        return verdict

    def judge(self, frame0: np.ndarray, frame1: np.ndarray, confidence: float | None = None) -> Verdict:
        if confidence is not None and confidence < self.min_confidence:
            return Verdict(False, "low model confidence")
        if min(frame0.shape[:2]) < 16:  # DIS flow needs at least 12 pixels a side: nothing to judge
            return Verdict(True)
        estimate = estimate_motion(frame0, frame1)
        if estimate.motion > self.limit_for(frame0.shape[1]):
            return Verdict(False, "motion beyond the model's range")
        if estimate.occluded > self.max_occluded:
            return Verdict(False, "large occluded area")
        if estimate.residual > self.max_residual:
            return Verdict(False, "content changes without motion")
        return Verdict(True)


def blend(frame0: np.ndarray, frame1: np.ndarray, t: float) -> np.ndarray:
    """The fallback frame: the inputs mixed by their distance in time, alpha included."""
    mixed = (1.0 - t) * frame0.astype(np.float32) + t * frame1.astype(np.float32)
    return np.rint(mixed).astype(frame0.dtype)


def decide(frame0: np.ndarray, frame1: np.ndarray, scene_threshold: float, judge: Judge | None,
           confidence: Callable[[], float | None]) -> tuple[str, str | None]:
    """The safeguards for one pair, shared by the pipeline and `Guarded`: ("cut", None) across a
    scene cut, ("fallback", reason) where the judge does not trust the model, else ("model", None).
    `confidence` is asked only when the judge runs (no judge: the model is trusted)."""
    if is_scene_cut(frame0, frame1, scene_threshold):
        return "cut", None
    if judge is not None:
        verdict = judge(frame0, frame1, confidence())
        if not verdict.trusted:
            return "fallback", verdict.reason
    return "model", None


def stand_in(mode: str, frame0: np.ndarray, frame1: np.ndarray, t: float) -> np.ndarray:
    """What replaces the model's frame: the nearer input across a cut, the t-weighted blend on fallback."""
    if mode == "cut":
        return frame0 if t < 0.5 else frame1
    return blend(frame0, frame1, float(t))


class Guarded:
    """An interpolator with the pipeline's safeguards in front, for callers that drive it pair by
    pair (`vnn bench`, the two-image command): `guarded(frame0, frame1, times)` gives the nearer
    frame across a scene cut, the blend where the judge rejects the pair, the model's frames
    otherwise. Every other attribute is the wrapped interpolator's."""

    def __init__(self, interpolator, judge: Judge | None = None, scene_threshold: float | None = None):
        self.interpolator = interpolator
        self.judge = judge or Judge(max_motion=getattr(interpolator, "max_motion", None))
        self.scene_threshold = DEFAULT_SCENE_THRESHOLD if scene_threshold is None else scene_threshold
        self.cuts = 0

    def __getattr__(self, name: str):
        return getattr(self.interpolator, name)

    def __call__(self, frame0: np.ndarray, frame1: np.ndarray, times, neighbours=None) -> list[np.ndarray]:
        def confidence() -> float | None:
            return self.interpolator.confidence(frame0, frame1) if hasattr(self.interpolator, "confidence") else None

        mode, _ = decide(frame0, frame1, self.scene_threshold, self.judge, confidence)
        if mode == "model":
            if neighbours:  # none across a cut
                neighbours = Neighbours(
                    None if neighbours.before is None or is_scene_cut(neighbours.before, frame0, self.scene_threshold) else neighbours.before,
                    None if neighbours.after is None or is_scene_cut(frame1, neighbours.after, self.scene_threshold) else neighbours.after,
                    neighbours.before_at, neighbours.after_at)
            return self.interpolator(frame0, frame1, times, neighbours)
        self.cuts += mode == "cut"
        return [stand_in(mode, frame0, frame1, t) for t in times]
