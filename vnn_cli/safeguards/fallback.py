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

import numpy as np

from ..core.model_api import Neighbours
from .scenes import DEFAULT_THRESHOLD as DEFAULT_SCENE_THRESHOLD, is_scene_cut
from .thumbnail_flow import FLOW_WIDTH, ThumbnailFlow

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


def estimate_motion(frame0: np.ndarray, frame1: np.ndarray, width: int = FLOW_WIDTH,
                    flow: ThumbnailFlow | None = None) -> MotionEstimate:
    """`flow`: the pair's thumbnails and flow at `width`, if the caller has them already."""
    flow = flow or ThumbnailFlow(frame0, frame1, width)
    forward, backward = flow.forward, flow.backward
    h, w = flow.first.shape
    map_x, map_y = flow.targets
    round_trip = np.linalg.norm(forward + flow.pulled(backward), axis=2)
    length = np.linalg.norm(forward, axis=2)
    inside = (map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)
    consistent = (round_trip <= 0.75 + 0.1 * length) & inside
    occluded = 1.0 - float(consistent.mean())
    residual = float(np.abs(flow.warped_back() - flow.first)[consistent].mean()) if consistent.any() else 255.0
    return MotionEstimate(float(np.percentile(length, 99)) * flow.scale, occluded, residual)


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

    def __call__(self, frame0: np.ndarray, frame1: np.ndarray, confidence: float | None = None,
                 flow: ThumbnailFlow | None = None) -> Verdict:
        verdict = self.judge(frame0, frame1, confidence, flow)
        if not verdict.trusted:
            self.reasons[verdict.reason] += 1
        return verdict

    def judge(self, frame0: np.ndarray, frame1: np.ndarray, confidence: float | None = None,
              flow: ThumbnailFlow | None = None) -> Verdict:
        if confidence is not None and confidence < self.min_confidence:
            return Verdict(False, "low model confidence")
        if min(frame0.shape[:2]) < 16:  # DIS flow needs at least 12 pixels a side: nothing to judge
            return Verdict(True)
        estimate = estimate_motion(frame0, frame1, flow=flow)
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
    `confidence` is asked only when the judge runs (no judge: the model is trusted). Both rules
    measure with one `ThumbnailFlow` of the pair, whose thumbnails (they cost more than its flows)
    are made once, when a rule first looks."""
    flow = ThumbnailFlow(frame0, frame1)
    if is_scene_cut(frame0, frame1, scene_threshold, flow):
        return "cut", None
    if judge is not None:
        verdict = judge(frame0, frame1, confidence(), flow)
        if not verdict.trusted:
            return "fallback", verdict.reason
    return "model", None


def stand_in(mode: str, frame0: np.ndarray, frame1: np.ndarray, t: float) -> np.ndarray:
    """What replaces the model's frame: the nearer input across a cut, the t-weighted blend on fallback."""
    if mode == "cut":
        return frame0 if t < 0.5 else frame1
    return blend(frame0, frame1, float(t))


def judge_for(interpolator, fallback: str = "auto") -> Judge | None:
    """The judge in front of `interpolator` (none with `--fallback never`), with the model's motion range."""
    if fallback != "auto":
        return None
    return Judge(max_motion=interpolator.max_motion)


def within_scene(neighbours: Neighbours, frame0: np.ndarray, frame1: np.ndarray, scene_threshold: float,
                 cuts: tuple[bool | None, bool | None] = (None, None)) -> Neighbours:
    """`neighbours` less the frames that a scene cut parts from the pair (frame0, frame1): another
    shot tells nothing of this pair's motion. `cuts`: whether a cut lies between `before` and
    frame0, and between frame1 and `after`, where the caller knows already (None: looked at here)."""
    cut_before, cut_after = cuts
    before, after = neighbours.before, neighbours.after
    if before is not None and (is_scene_cut(before, frame0, scene_threshold) if cut_before is None else cut_before):
        before = None
    if after is not None and (is_scene_cut(frame1, after, scene_threshold) if cut_after is None else cut_after):
        after = None
    return Neighbours(before, after, neighbours.before_at if before is not None else -1.0,
                      neighbours.after_at if after is not None else 2.0)


class Guarded:
    """An interpolator with the pipeline's safeguards in front, for callers that drive it pair by
    pair (`vnn bench`, the two-image command): `guarded(frame0, frame1, times)` gives the nearer
    frame across a scene cut, the blend where the judge rejects the pair, the model's frames
    otherwise. `cuts` and `fallbacks` (reason -> pairs) count what it did. Every other attribute is
    the wrapped interpolator's."""

    def __init__(self, interpolator, scene_threshold: float | None = None, fallback: str = "auto"):
        self.interpolator = interpolator
        self.judge = judge_for(interpolator, fallback)
        self.scene_threshold = DEFAULT_SCENE_THRESHOLD if scene_threshold is None else scene_threshold
        self.cuts = 0
        self.fallbacks: Counter = Counter()

    def __getattr__(self, name: str):
        return getattr(self.interpolator, name)

    def __call__(self, frame0: np.ndarray, frame1: np.ndarray, times, neighbours=None) -> list[np.ndarray]:
        def confidence() -> float | None:
            return self.interpolator.confidence(frame0, frame1) if hasattr(self.interpolator, "confidence") else None

        mode, reason = decide(frame0, frame1, self.scene_threshold, self.judge, confidence)
        if mode == "model":
            if neighbours:
                neighbours = within_scene(neighbours, frame0, frame1, self.scene_threshold)
            return self.interpolator(frame0, frame1, times, neighbours)
        if mode == "cut":
            self.cuts += 1
        else:
            self.fallbacks[reason] += 1
        return [stand_in(mode, frame0, frame1, t) for t in times]
