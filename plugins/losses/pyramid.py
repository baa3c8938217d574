"""`laplacian`: L1 distance between Laplacian pyramids (Burt & Adelson, 1983), as in
RIFE's `LapLoss`: the mean L1 of each band, bands weighted equally. Each band holds the detail of
one scale, so an error that spans several pixels (a blur, a shifted edge) is counted again at every
coarser scale it reaches, while pixel noise mostly stays in the finest band."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from vnn_cli import register_loss

_BINOMIAL = (1.0, 4.0, 6.0, 4.0, 1.0)


def _kernel(channels: int, like: torch.Tensor) -> torch.Tensor:
    k = torch.tensor(_BINOMIAL, dtype=like.dtype, device=like.device)
    k2 = k[:, None] * k[None, :]
    return (k2 / k2.sum()).expand(channels, 1, 5, 5).contiguous()


def _smooth(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    mode = "reflect" if min(x.shape[-2:]) > 2 else "replicate"
    return F.conv2d(F.pad(x, (2, 2, 2, 2), mode=mode), kernel, groups=x.shape[1])


def laplacian_pyramid(x: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """Bands finest first, then the low-pass residual; fewer levels when the image is small."""
    kernel = _kernel(x.shape[1], x)
    bands = []
    current = x
    for _ in range(levels - 1):
        if min(current.shape[-2:]) < 4:
            break
        low = _smooth(current, kernel)
        down = low[..., ::2, ::2]
        up = F.interpolate(down, size=current.shape[-2:], mode="bilinear", align_corners=False)
        bands.append(current - up)
        current = down
    bands.append(current)
    return bands


class LaplacianLoss(torch.nn.Module):
    def __init__(self, levels: int = 5):
        super().__init__()
        if levels < 1:
            raise ValueError(f"laplacian levels must be >= 1, not {levels}")
        self.levels = levels

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        with torch.autocast(prediction.device.type, enabled=False):
            a = laplacian_pyramid(prediction.float(), self.levels)
            b = laplacian_pyramid(target.float(), self.levels)
            return sum(torch.mean(torch.abs(p - t)) for p, t in zip(a, b))


@register_loss("laplacian")
def laplacian(levels: int = 5):
    return LaplacianLoss(levels)
