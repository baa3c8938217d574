"""Fades: where a blend leans on one frame (the other's motion leaves the picture, or RIFE's mask
trusts one side), the in-between must still take the in-between's brightness, not that frame's
(issue 15: a trailer's fades cost the default 2.6 dB against plain DIS before this)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import landscape
from vnn_cli.core.frames import to_tensor
from vnn_cli.core.model_api import as_time_tensor
from vnn_cli.eval.metrics import psnr
from vnn_cli.nn.candidates import classical, exposed_at
from vnn_cli.nn.weights import load_model
from vnn_cli.render.engine import Interpolator

pytestmark = pytest.mark.usefixtures("builtin_plugins")

PAN = 6  # pixels a frame, leftwards: new content enters at the right edge


def fading_pan(frames: int = 3, height: int = 96, width: int = 160) -> list[np.ndarray]:
    """A pan that fades in: brightness 45% of the picture's at frame 0, 100% at the last."""
    scene = landscape(7, height, width + PAN * frames).astype(np.float32)
    gains = np.linspace(0.45, 1.0, frames)
    return [np.clip(scene[:, PAN * i:PAN * i + width] * g, 0, 255).round().astype(np.uint8)
            for i, g in enumerate(gains)]


def as_uint8(frame: torch.Tensor) -> np.ndarray:
    return (frame[0].permute(1, 2, 0).clamp(0, 1) * 255).round().byte().numpy()


def test_an_exact_fade_makes_every_blend_right():
    # frame 1 = 0.6·frame 0 + 0.1: whichever frame a blend leans on, it gets the in-between.
    warped0 = torch.rand(1, 3, 32, 48)
    warped1 = 0.6 * warped0 + 0.1
    for t in (0.25, 0.5):
        middle = (1 - t) * warped0 + t * warped1
        exposed0, exposed1 = exposed_at(warped0, warped1, t)
        assert torch.allclose(exposed0, middle, atol=1e-5)
        assert torch.allclose(exposed1, middle, atol=1e-5)


def test_unrelated_pictures_are_left_alone():
    # Across a cut the two frames show different pictures: no exposure to carry over.
    warped0 = torch.rand(1, 3, 128, 128, generator=torch.Generator().manual_seed(1))
    warped1 = 0.5 * torch.rand(1, 3, 128, 128, generator=torch.Generator().manual_seed(2))
    exposed0, exposed1 = exposed_at(warped0, warped1, 0.5)
    assert (exposed0 - warped0).abs().max() < 0.03
    assert (exposed1 - warped1).abs().max() < 0.03


def test_the_lean_at_the_border_keeps_the_fade():
    # The right edge's new content is only in frame 1 (frame 0's motion there leaves the picture):
    # the border-aware mask takes it from frame 1, which is 20% brighter than the in-between.
    frame0, middle, frame1 = fading_pan()
    x0, x1 = to_tensor(frame0, "cpu"), to_tensor(frame1, "cpu")
    predicted = as_uint8(classical(x0, x1, as_time_tensor(0.5, x0)).frame)
    edge = (slice(8, -8), slice(-PAN, None))
    assert psnr(predicted[edge], middle[edge]) > 38  # 24 dB with frame 1's brightness
    inside = (slice(8, -8), slice(16, -16))
    assert psnr(predicted[inside], middle[inside]) > 38


def test_the_default_follows_a_fade():
    # RIFE alone (the published network) makes 22 dB of this frame: its flows go astray between
    # frames of unlike brightness. The fusion's RIFE candidate matches them at the middle's exposure.
    frame0, middle, frame1 = fading_pan()
    predicted = Interpolator(load_model("fusion", params={"grade": False}))(frame0, frame1, [0.5])[0]
    crop = (slice(8, -8), slice(8, -1))
    assert psnr(predicted[crop], middle[crop]) > 45  # 31 dB before: RIFE matched frames of unlike brightness
