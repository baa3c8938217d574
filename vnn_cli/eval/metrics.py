"""Image quality scores on uint8/uint16 H×W×3 frames: PSNR (dB, on RGB) and SSIM (Wang et al. 2004)."""
from __future__ import annotations

import math

import cv2
import numpy as np

from ..core.frames import max_value

PSNR_CAP = 100.0  # identical frames: PSNR is infinite; reports and means use this cap instead


def psnr(prediction: np.ndarray, target: np.ndarray, cap: float | None = PSNR_CAP) -> float:
    peak = max_value(target.dtype)
    mse = float(np.mean((prediction.astype(np.float64) - target.astype(np.float64)) ** 2))
    if mse == 0:
        return cap if cap is not None else math.inf
    value = 10 * math.log10(peak**2 / mse)
    return min(value, cap) if cap is not None else value


def ssim(prediction: np.ndarray, target: np.ndarray) -> float:
    """Mean SSIM over the RGB channels, 11×11 Gaussian window (σ 1.5), as in the original paper."""
    peak = max_value(target.dtype)
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    x = prediction.astype(np.float64)
    y = target.astype(np.float64)

    def blur(img: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(img, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    ssim_map = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(ssim_map.mean())
