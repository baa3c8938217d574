"""Run a model on overlapping tiles of a large frame and blend the seams, so that memory is set by
the tile size rather than the frame size (4K on a small GPU, or on a CPU with bounded RAM).

Each tile's output is weighted by a linear ramp across the overlap on every side that borders
another tile (1 inside, falling towards the tile's edge), and the weighted outputs are summed and
normalised: seams fade over `overlap` pixels instead of showing as lines. Any model works, since
each tile is just a smaller pair of frames; a flow model sees motion only within its tile plus the
overlap, so large tiles (and `--scale` for motion) suit large motion better than small ones.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

# Frames above this many pixels are tiled when tiling is left on "auto": 4K and up, not 1440p.
AUTO_TILE_ABOVE = 2560 * 1440
AUTO_TILE_SIZE = 1024
DEFAULT_OVERLAP = 64


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Starts of tiles of `tile` pixels covering `length`, neighbours sharing at least `overlap`."""
    if length <= tile:
        return [0]
    step = max(1, tile - overlap)
    starts = list(range(0, length - tile, step))
    starts.append(length - tile)
    return starts


def ramp(start: int, size: int, length: int, overlap: int) -> np.ndarray:
    """Weights along one axis of a tile at `start`: rising over `overlap` pixels unless the tile
    touches the frame's start, falling unless it touches the frame's end."""
    position = np.arange(size, dtype=np.float32) + 0.5
    weight = np.ones(size, dtype=np.float32)
    if overlap > 0 and start > 0:
        weight = np.minimum(weight, position / overlap)
    if overlap > 0 and start + size < length:
        weight = np.minimum(weight, (size - position) / overlap)
    return weight


def tiled(frame0: np.ndarray, frame1: np.ndarray, times: Sequence[float],
          run: Callable[[np.ndarray, np.ndarray, tuple[slice, slice]], list[np.ndarray]], tile: int,
          overlap: int = DEFAULT_OVERLAP) -> list[np.ndarray]:
    """`run(tile0, tile1, window)` -> one H'×W'×C float32 image in [0, 1] per time (`window`: the
    tile's rows and columns in the frame, to crop other frames alike); returns the full-size
    float32 images, one per time, blended across the seams."""
    height, width = frame0.shape[:2]
    overlap = min(overlap, tile // 2)
    channels = None
    sums: list[np.ndarray] = []
    weights = np.zeros((height, width, 1), dtype=np.float32)
    for y in tile_starts(height, tile, overlap):
        h = min(tile, height)
        wy = ramp(y, h, height, overlap)
        for x in tile_starts(width, tile, overlap):
            w = min(tile, width)
            window = (slice(y, y + h), slice(x, x + w))
            outputs = run(frame0[window], frame1[window], window)
            if channels is None:
                channels = outputs[0].shape[2]
                sums = [np.zeros((height, width, channels), dtype=np.float32) for _ in times]
            weight = (wy[:, None] * ramp(x, w, width, overlap)[None, :])[:, :, None]
            for total, out in zip(sums, outputs):
                np.multiply(out, weight, out=out)
                total[y : y + h, x : x + w] += out
            weights[y : y + h, x : x + w] += weight
    for total in sums:
        total /= weights
    return sums
