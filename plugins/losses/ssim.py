"""`ssim`: 1 − SSIM (Wang et al., 2004), 11×11 Gaussian window (σ 1.5), per channel on [0, 1].

SSIM compares local means, contrasts and correlation, so a blurred prediction (lost contrast) is
penalised even where its mean is right."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from vnn_cli import register_loss

C1, C2 = 0.01**2, 0.03**2


def _gaussian_window(size: int, sigma: float, channels: int, like: torch.Tensor) -> torch.Tensor:
    x = torch.arange(size, dtype=like.dtype, device=like.device) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(channels, 1, size, size).contiguous()


def ssim_map(x: torch.Tensor, y: torch.Tensor, window: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Per-pixel SSIM, N×C×H×W (reflect padding keeps the size; the window shrinks for tiny images)."""
    size = min(window, x.shape[-1], x.shape[-2])
    size -= 1 - size % 2  # an odd window
    kernel = _gaussian_window(size, sigma, x.shape[1], x)

    def blur(img: torch.Tensor) -> torch.Tensor:
        pad = size // 2
        img = F.pad(img, (pad, pad, pad, pad), mode="reflect") if pad else img
        return F.conv2d(img, kernel, groups=x.shape[1])

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    return ((2 * mx * my + C1) * (2 * cxy + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2))


class SSIMLoss(torch.nn.Module):
    def __init__(self, window: int = 11, sigma: float = 1.5):
        super().__init__()
        self.window, self.sigma = window, sigma

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        # Variances are small differences of squares: half precision would cancel them away.
        with torch.autocast(prediction.device.type, enabled=False):
            return 1 - ssim_map(prediction.float(), target.float(), self.window, self.sigma).mean()


@register_loss("ssim")
def ssim(window: int = 11, sigma: float = 1.5):
    return SSIMLoss(window, sigma)
