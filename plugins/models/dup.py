"""`dup`: repeat the nearer frame (the previous one at t = 0.5), what a player does without
interpolation. A baseline: "repeat the previous frame" in the drop-frame benchmark."""
import torch

from vnn_cli import FrameInterpolator, register_model
from vnn_cli.core.model_api import as_time_tensor


@register_model("dup")
class Duplicate(FrameInterpolator):
    def forward(self, frame0: torch.Tensor, frame1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        t = as_time_tensor(t, frame0)
        return torch.where(t <= 0.5, frame0, frame1)
