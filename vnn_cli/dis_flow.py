"""Classical optical flow for the models that use it: OpenCV's DIS (Kroeger et al., 2016).

DIS runs on the CPU through numpy on gray uint8 frames; the flows come back on the frames' device,
so models that start from DIS motion work on CUDA too.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}


def gray_uint8(frames: torch.Tensor) -> np.ndarray:
    """N×3×H×W floats in [0, 1] -> N×H×W uint8 luma (BT.601), on the CPU."""
    weights = torch.tensor([0.299, 0.587, 0.114], dtype=torch.float32).view(1, 3, 1, 1)
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

    def as_tensor(flows: list[np.ndarray]) -> torch.Tensor:
        tensor = torch.from_numpy(np.stack(flows)).permute(0, 3, 1, 2)
        return tensor.to(frame0.device, frame0.dtype)

    return as_tensor(forward), as_tensor(backward)
