"""Quality under the drop-frame protocol (see `vnn_cli.eval.protocol`): every method predicts each odd
frame from the even frames around it, and is scored against the real one (`vnn_cli.eval.scoring`:
PSNR on RGB 0-255, capped at 100 dB for an exact match, and SSIM). The time each prediction takes
is kept too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.errors import InputError
from ..eval.protocol import drop_frame_neighbours, drop_frame_triplets, load_eval_frames, read_frames
from ..eval.scoring import Triplet, grade, predict_dropped
from ..render.engine import Interpolator
from .memory import PeakMemory
from .peers import minterpolate_midframes

@dataclass
class Clip:
    path: Path
    frames: list[np.ndarray]
    static: bool = False  # no motion at all: exact repeats kept, so that there is something to score

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def size(self) -> tuple[int, int]:
        height, width = self.frames[0].shape[:2]
        return width, height

    def triplets(self) -> list[Triplet]:
        return drop_frame_triplets(self.frames)

    def neighbours(self) -> list:
        return drop_frame_neighbours(self.frames)


def load_clip(path: Path, frames: int = 21, start: float = 0.0, max_width: int | None = 1280) -> Clip:
    """The protocol's frames. A clip whose frames are all the same has nothing left once repeats
    are dropped; it is kept whole instead (every method should then be exact)."""
    try:
        return Clip(Path(path), load_eval_frames(path, frames, start, max_width))
    except InputError:
        raw = read_frames(path, frames, start, max_width, distinct=False)
        if len(raw) < 3 or any(not np.array_equal(f, raw[0]) for f in raw):
            raise
        return Clip(Path(path), raw, static=True)


@dataclass
class Score:
    """One method on one clip. `fps` counts predicted frames per second of the method's own time."""

    clip: str
    method: str
    psnr: list[float] = field(default_factory=list)
    ssim: list[float] = field(default_factory=list)
    seconds: float = 0.0  # total time spent predicting the scored frames
    fps: float | None = None
    peak_mib: float | None = None
    error: str | None = None
    predictions: list[np.ndarray] | None = None  # kept only when examples are wanted

    @property
    def mean_psnr(self) -> float | None:
        return float(np.mean(self.psnr)) if self.psnr and not self.error else None

    @property
    def mean_ssim(self) -> float | None:
        return float(np.mean(self.ssim)) if self.ssim and not self.error else None


def _grade(score: Score, predictions: list[np.ndarray], triplets: list[Triplet], keep: bool) -> None:
    score.psnr, score.ssim = grade(predictions, triplets)
    if keep:
        score.predictions = predictions


def score_model(interpolator: Interpolator, clip: Clip, method: str, keep: bool = False) -> Score:
    """Predict every dropped frame in order, as from a video (models that use neighbours get the
    input frames around each pair), timed one by one. A warm-up runs first, untimed, on the first
    pair mirrored (so that nothing it computed is reused)."""
    triplets = clip.triplets()
    score = Score(clip.name, method)
    with PeakMemory(interpolator.device) as peak:
        interpolator(np.ascontiguousarray(triplets[0][0][:, ::-1]), np.ascontiguousarray(triplets[0][2][:, ::-1]), [0.5])
        predictions, times = predict_dropped(interpolator, triplets, clip.neighbours())
    score.peak_mib = peak.mib
    score.seconds = sum(times)
    score.fps = len(times) / score.seconds  # throughput: a slow frame counts as fully as it costs
    _grade(score, predictions, triplets, keep)
    return score


def score_minterpolate(clip: Clip, keep: bool = False) -> Score:
    """One ffmpeg run over the even frames; its time is spread over the frames it predicted."""
    triplets = clip.triplets()
    evens = [triplets[0][0], *(after for _, _, after in triplets)]
    run = minterpolate_midframes(evens)
    score = Score(clip.name, "minterpolate", seconds=run.seconds, fps=len(triplets) / run.seconds, peak_mib=run.peak_mib)
    _grade(score, run.frames, triplets, keep)
    return score
