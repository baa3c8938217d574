"""What a model plugin is: a `torch.nn.Module` that maps two frames and a time to the frame between.

    class MyNet(FrameInterpolator):
        any_time = True          # False: only t = 0.5; the pipeline then bisects recursively
        pad_multiple = 8         # H and W are padded to a multiple of this, then cropped back
        default_weights = "mynet"  # weights/<name>.safetensors; None: needs no weights

        class Params(FrameInterpolator.Params):
            width: int = 32

        def forward(self, frame0, frame1, t):  # N×3×H×W in [0, 1], t: N in (0, 1)
            ...

Frames are float tensors in [0, 1]; the output has the input's shape.
"""
from __future__ import annotations

from typing import Any, ClassVar

import torch
from pydantic import BaseModel, ConfigDict, ValidationError
from torch import nn

from .errors import SettingsError


class ModelParams(BaseModel):
    """A model's constructor arguments, validated before anything is built."""

    model_config = ConfigDict(extra="forbid")


class FrameInterpolator(nn.Module):
    any_time: ClassVar[bool] = True
    pad_multiple: ClassVar[int] = 1
    default_weights: ClassVar[str | None] = None
    Params: ClassVar[type[ModelParams]] = ModelParams

    def __init__(self, **params: Any):
        super().__init__()
        try:
            self.params = type(self).Params(**params)
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            raise SettingsError(f"invalid parameter '{key}' for model {type(self).__name__}: {first['msg']}") from None

    @property
    def needs_weights(self) -> bool:
        return self.default_weights is not None

    def forward(self, frame0: torch.Tensor, frame1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


def as_time_tensor(t: float | torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """`t` as an N×1×1×1 tensor on `like`'s device, for broadcasting against N×C×H×W frames."""
    t = torch.as_tensor(t, dtype=like.dtype, device=like.device)
    return t.reshape(-1, 1, 1, 1).expand(like.shape[0], 1, 1, 1)
