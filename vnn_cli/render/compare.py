"""The compare view: the input as a player shows it at the output rate (each input frame held
until the next, i.e. frame-doubled) beside the interpolated output, each labelled, so the gain in
smoothness can be seen side by side (or one above the other)."""
from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

from ..video.media import as_rgb8

Layout = Literal["side", "stack"]


def label(frame: np.ndarray, text: str) -> np.ndarray:
    """`text` in the top-left corner, white on a dark band, sized to the frame."""
    out = np.ascontiguousarray(frame).copy()
    height = out.shape[0]
    scale = max(0.3, height / 720)
    thickness = max(1, round(scale * 2))
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    pad = max(2, round(6 * scale))
    out[: h + base + 2 * pad, : w + 2 * pad] //= 3
    cv2.putText(out, text, (pad, pad + h), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return out


def compare_frame(held_input: np.ndarray, output: np.ndarray, layout: Layout = "side",
                  labels: tuple[str, str] = ("input", "interpolated")) -> np.ndarray:
    left, right = label(as_rgb8(held_input), labels[0]), label(as_rgb8(output), labels[1])
    return np.hstack([left, right]) if layout == "side" else np.vstack([left, right])


def compare_size(width: int, height: int, layout: Layout) -> tuple[int, int]:
    return (2 * width, height) if layout == "side" else (width, 2 * height)
