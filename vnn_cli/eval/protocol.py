"""The drop-frame protocol every quality number here comes from: decode K frames, drop exact
repeats, keep the even frames as input, predict each odd frame, score it against the real one."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.errors import InputError
from ..core.model_api import Neighbours
from ..safeguards.scenes import DEFAULT_THRESHOLD, is_scene_cut
from ..video.reader import VideoReader


def read_frames(path: Path, limit: int | None = None, start: float = 0.0, max_width: int | None = 1280,
                distinct: bool = True) -> list[np.ndarray]:
    """Up to `limit` consecutive frames (all of them when None) from `start` seconds, as uint8 RGB.
    `distinct`: exact repeats dropped, since some sources pad a variable frame rate with copies,
    and a repeat is no motion to learn from or to score."""
    kept: list[np.ndarray] = []
    for frame in VideoReader(Path(path), start=start or None, max_width=max_width):
        if distinct and kept and np.array_equal(frame, kept[-1]):
            continue
        kept.append(frame.copy())
        if limit is not None and len(kept) >= limit:
            break
    return kept


def load_eval_frames(path: Path, frames: int = 21, start: float = 0.0, max_width: int | None = 1280) -> list[np.ndarray]:
    """The protocol's frames: up to `frames` distinct consecutive frames."""
    kept = read_frames(path, frames, start, max_width)
    if len(kept) < 3:
        raise InputError(f"{path}: fewer than 3 distinct frames, nothing to score")
    return kept


def drop_frame_triplets(frames: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(frame 2k, frame 2k+1, frame 2k+2): the middle one is what a method must predict."""
    return [(frames[i - 1], frames[i], frames[i + 1]) for i in range(1, len(frames) - 1, 2)]


def drop_frame_neighbours(frames: list[np.ndarray], scene_threshold: float = DEFAULT_THRESHOLD) -> list[Neighbours]:
    """For each triplet of `drop_frame_triplets`, the input frames around its pair (frames 2k-2
    and 2k+4, where the clip has them): what a video gives a model that uses neighbours. As in
    `vnn interpolate`, never across a scene cut: a neighbour whose pair with the nearer input frame
    is a cut (`is_scene_cut` at `scene_threshold`) is left out."""
    inputs = frames[::2]
    cuts = [is_scene_cut(a, b, scene_threshold) for a, b in zip(inputs, inputs[1:])]
    around = []
    for k in range(len(inputs) - 1):  # the pair (input k, input k+1): one per triplet
        before = inputs[k - 1] if k >= 1 and not cuts[k - 1] else None
        after = inputs[k + 2] if k + 2 < len(inputs) and not cuts[k + 1] else None
        around.append(Neighbours(before, after))
    return around
