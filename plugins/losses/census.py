"""`census`: the soft ternary census transform distance (Zabih & Woodfill, 1994; as used by UnFlow
and RIFE). Each pixel is described by the signs of its 7×7 neighbours minus itself, so the loss
compares local structure and ignores brightness offsets; a blurred edge changes the signs."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from vnn_cli import register_loss

_LUMA = (0.299, 0.587, 0.114)


def census_transform(image: torch.Tensor, patch: int) -> torch.Tensor:
    """N×3×H×W in [0, 1] -> N×patch²×H×W soft signs of (neighbour − centre), in (−1, 1)."""
    gray = (image * image.new_tensor(_LUMA).view(1, 3, 1, 1)).sum(1, keepdim=True) * 255
    eye = torch.eye(patch * patch, dtype=image.dtype, device=image.device).view(patch * patch, 1, patch, patch)
    neighbours = F.conv2d(gray, eye, padding=patch // 2)
    difference = neighbours - gray
    return difference / torch.sqrt(0.81 + difference**2)


class CensusLoss(torch.nn.Module):
    def __init__(self, patch: int = 7):
        super().__init__()
        if patch < 3 or patch % 2 == 0:
            raise ValueError(f"census patch must be an odd size >= 3, not {patch}")
        self.patch = patch

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        with torch.autocast(prediction.device.type, enabled=False):
            a = census_transform(prediction.float(), self.patch)
            b = census_transform(target.float(), self.patch)
            squared = (a - b) ** 2
            distance = (squared / (0.1 + squared)).mean(1)
            # Zero padding makes fake neighbours at the border: score the interior only.
            r = self.patch // 2
            interior = distance[:, r:-r, r:-r] if distance.shape[-1] > 2 * r and distance.shape[-2] > 2 * r else distance
            return interior.mean()


@register_loss("census")
def census(patch: int = 7):
    return CensusLoss(patch)
