"""Classical optical flow for the models that use it: OpenCV's DIS (Kroeger et al., 2016).

DIS runs on the CPU through numpy on gray uint8 frames; the flows come back on the frames' device,
so models that start from DIS motion work on CUDA too.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict

import cv2
import numpy as np
import torch

PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}


LUMA_WEIGHTS = (0.299, 0.587, 0.114)  # BT.601: the luma DIS sees


def luma(frames: torch.Tensor) -> torch.Tensor:
    """N×1×H×W: the luma of N×3×H×W frames, as DIS sees them, on the frames' device."""
    red, green, blue = frames.unbind(dim=1)
    return (LUMA_WEIGHTS[0] * red + LUMA_WEIGHTS[1] * green + LUMA_WEIGHTS[2] * blue)[:, None]


def gray_uint8(frames: torch.Tensor) -> np.ndarray:
    """N×3×H×W floats in [0, 1] -> N×H×W uint8 luma (BT.601), on the CPU."""
    weights = torch.tensor(LUMA_WEIGHTS, dtype=torch.float32).view(1, 3, 1, 1)
    luma = (frames.detach().float().cpu() * weights).sum(dim=1)
    return (luma.clamp(0, 1) * 255 + 0.5).to(torch.uint8).numpy()


def dis_flows(frame0: torch.Tensor, frame1: torch.Tensor, preset: str = "medium") -> tuple[torch.Tensor, torch.Tensor]:
    """DIS flows 0→1 and 1→0 (N×2×H×W, pixels) for batched frames, on the frames' device and dtype."""
    engine = cv2.DISOpticalFlow_create(PRESETS[preset])
    gray0, gray1 = gray_uint8(frame0), gray_uint8(frame1)
    forward, backward = [], []
    for a, b in zip(gray0, gray1):
        forward.append(engine.calc(a, b, None))
        backward.append(engine.calc(b, a, None))

    return _as_tensor(forward, frame0), _as_tensor(backward, frame0)


def _as_tensor(flows: list[np.ndarray], like: torch.Tensor) -> torch.Tensor:
    """OpenCV's H×W×2 flows, stacked as N×2×H×W on `like`'s device and dtype."""
    return torch.from_numpy(np.stack(flows)).permute(0, 3, 1, 2).to(like.device, like.dtype)


def content_key(array: np.ndarray) -> tuple:
    """A key for an array's content (shape and a 128-bit hash), to remember work done on it."""
    return array.shape, hashlib.blake2b(array.tobytes(), digest_size=16).digest()


class RememberedFlows:
    """DIS flows a→b, remembered by the frames' content (the last `size`). With neighbours, each
    pair of a video needs four flows (both ways between its frames, and out to the frames around
    it), two of which the previous pair already computed: this keeps the cost at two per pair.
    One per model instance, so that two models never share work (and timings stay honest)."""

    def __init__(self, size: int = 8):
        self.size = size
        self.computed = 0  # flows computed (not remembered) so far
        self._flows: OrderedDict[tuple, np.ndarray] = OrderedDict()
        # The last few frames' luma, by identity: a pair's frames take part in several flows. The
        # tensors are held, so an identity is never reused while remembered.
        self._grays: list[tuple[torch.Tensor, np.ndarray]] = []

    def _gray(self, frames: torch.Tensor) -> np.ndarray:
        for seen, gray in self._grays:
            if seen is frames:
                return gray
        gray = gray_uint8(frames)
        self._grays = [*self._grays[-3:], (frames, gray)]
        return gray

    def __call__(self, frame_a: torch.Tensor, frame_b: torch.Tensor, preset: str = "medium") -> torch.Tensor:
        """N×2×H×W flow a→b in pixels, on the frames' device and dtype."""
        engine = None
        flows = []
        for a, b in zip(self._gray(frame_a), self._gray(frame_b)):
            key = (content_key(a), content_key(b), preset)
            flow = self._flows.get(key)
            if flow is None:
                engine = engine or cv2.DISOpticalFlow_create(PRESETS[preset])
                flow = engine.calc(a, b, None)
                self.computed += 1
                self._flows[key] = flow
                while len(self._flows) > self.size:
                    self._flows.popitem(last=False)
            else:
                self._flows.move_to_end(key)
            flows.append(flow)
        return _as_tensor(flows, frame_a)
