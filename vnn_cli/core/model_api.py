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

A model that fits motion through more than two frames sets `uses_neighbours = True` and takes
`neighbours: Neighbours | None` in `forward`: the input frames around the pair where the video has
them (not across a scene cut), None where it has none or the caller gives none.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from pydantic import BaseModel, ConfigDict, ValidationError
from torch import nn

from .errors import SettingsError


class ModelParams(BaseModel):
    """A model's constructor arguments, validated before anything is built."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class Neighbours:
    """The input frames just before frame 0 and just after frame 1 (each None where there is
    none: the video's start or end, a scene cut), with their times in units of the pair's own
    interval (frame 0 at 0, frame 1 at 1: evenly spaced frames are at -1 and 2). Tensors
    (N×3×H×W) for a model; the engine also carries numpy frames in one."""

    before: Any = None
    after: Any = None
    before_at: float = -1.0
    after_at: float = 2.0

    def __bool__(self) -> bool:
        return self.before is not None or self.after is not None

    def map(self, convert) -> "Neighbours":
        """The same neighbours with `convert` applied to each frame that is there."""
        return Neighbours(None if self.before is None else convert(self.before),
                          None if self.after is None else convert(self.after), self.before_at, self.after_at)


class FrameInterpolator(nn.Module):
    any_time: ClassVar[bool] = True
    uses_neighbours: ClassVar[bool] = False
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
