"""Scoring a model under the drop-frame protocol (see `protocol`): each dropped frame predicted
through `Interpolator`, as in use, then PSNR (on RGB, capped at 100 dB for an exact match) and SSIM
against the real one. `vnn bench` and training's validation both score this way, so their numbers
compare."""
from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from ..core.model_api import Neighbours
from ..render.engine import Interpolator
from .metrics import psnr, ssim

Triplet = tuple[np.ndarray, np.ndarray, np.ndarray]


def predict_dropped(interpolator: Interpolator, triplets: Sequence[Triplet],
                    neighbours: Sequence[Neighbours | None] | None = None) -> tuple[list[np.ndarray], list[float]]:
    """Each triplet's middle frame predicted from the outer two, in order as from a video (with the
    input frames around each pair, where `neighbours` gives them), and the seconds each took."""
    predictions, seconds = [], []
    for (frame0, _, frame1), around in zip(triplets, neighbours or [None] * len(triplets)):
        started = time.perf_counter()
        predictions.append(interpolator(frame0, frame1, [0.5], around)[0])
        seconds.append(time.perf_counter() - started)
    return predictions, seconds


def grade(predictions: Sequence[np.ndarray], triplets: Sequence[Triplet]) -> tuple[list[float], list[float]]:
    """(PSNR, SSIM) of each prediction against its triplet's real middle frame."""
    pairs = [(prediction, middle) for prediction, (_, middle, _) in zip(predictions, triplets)]
    return [psnr(p, target) for p, target in pairs], [ssim(p, target) for p, target in pairs]
