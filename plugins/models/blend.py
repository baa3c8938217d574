"""`blend`: the average of the two frames, weighted by t. Needs no weights; a baseline."""
import torch

from vnn_cli import FrameInterpolator, register_model
from vnn_cli.core.model_api import as_time_tensor


@register_model("blend")
class Blend(FrameInterpolator):
    def forward(self, frame0: torch.Tensor, frame1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        t = as_time_tensor(t, frame0)
        return (1 - t) * frame0 + t * frame1
