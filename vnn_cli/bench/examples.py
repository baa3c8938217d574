"""The frames worth looking at: for each clip, the ones the focus method got most wrong, cropped
around its largest error beside the real frame and every other method's prediction."""
from __future__ import annotations

import math

import cv2
import numpy as np

from .quality import Clip, Score
from .results import Example

_LABEL_HEIGHT = 18


def _focus(scores: list[Score], preferred: str) -> Score | None:
    """The method whose failures are worth looking at: the preferred one, else the best here."""
    usable = [s for s in scores if s.predictions and s.psnr]
    for score in usable:
        if score.method == preferred:
            return score
    return max(usable, key=lambda s: s.mean_psnr or -math.inf, default=None)


def _crop_box(prediction: np.ndarray, target: np.ndarray, size: int) -> tuple[int, int, int, int]:
    """A size×size window (or the whole frame, if smaller) around the largest error."""
    height, width = target.shape[:2]
    ch, cw = min(size, height), min(size, width)
    error = np.abs(prediction.astype(np.float32) - target.astype(np.float32)).mean(axis=2)
    error = cv2.blur(error, (max(1, cw // 4), max(1, ch // 4)))
    y, x = np.unravel_index(int(np.argmax(error)), error.shape)
    top = int(np.clip(y - ch // 2, 0, height - ch))
    left = int(np.clip(x - cw // 2, 0, width - cw))
    return top, left, ch, cw


def _labelled(tile: np.ndarray, text: str) -> np.ndarray:
    band = np.full((_LABEL_HEIGHT, tile.shape[1], 3), 24, np.uint8)
    cv2.putText(band, text, (3, _LABEL_HEIGHT - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
    return np.vstack([band, tile])


def worst_examples(clip: Clip, scores: list[Score], focus: str, count: int = 1, crop: int = 256) -> list[Example]:
    """The `count` frames of `clip` the focus method scored worst, cropped around its largest
    error: the real frame, then every method that produced a prediction, left to right."""
    main = _focus(scores, focus)
    if main is None:
        return []
    shown = [s for s in scores if s.predictions]
    targets = [middle for _, middle, _ in clip.triplets()]
    examples = []
    for index in np.argsort(main.psnr)[:count]:
        index = int(index)
        target = targets[index]
        top, left, ch, cw = _crop_box(main.predictions[index], target, crop)
        tiles = [_labelled(target[top : top + ch, left : left + cw], "real")]
        for score in shown:
            tile = score.predictions[index][top : top + ch, left : left + cw]
            tiles.append(_labelled(tile, f"{score.method} {score.psnr[index]:.1f}"))
        gap = np.full((tiles[0].shape[0], 2, 3), 255, np.uint8)
        row = [part for tile in tiles for part in (tile, gap)][:-1]
        examples.append(Example(clip.name, 2 * index + 1, [s.method for s in shown], np.hstack(row)))
    return examples
