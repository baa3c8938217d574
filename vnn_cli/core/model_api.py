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

import difflib
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from pydantic import BaseModel, ConfigDict, ValidationError
from torch import nn

from .errors import PluginError, SettingsError


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
    """Base of every model plugin. The hooks below are what a plugin may declare; each has its
    default here, so the pipeline reads them directly, and a name that looks like a hook but is
    none (`any_times`, `max_motions`) is refused when the class is defined."""

    any_time: ClassVar[bool] = True
    """False: the model knows only t = 0.5; other times come from recursive bisection."""
    uses_neighbours: ClassVar[bool] = False
    """True: `forward(..., neighbours=Neighbours)` also sees the input frames around the pair."""
    supports_scale: ClassVar[bool] = False
    """True: `forward(..., scale=s)` estimates motion at scale s (`--scale`)."""
    allows_half: ClassVar[bool] = True
    """False: the model stays in float32 even with `--half`."""
    max_motion: ClassVar[float | None] = None
    """The largest motion (pixels at the resolution the model sees) it was trained on; the
    fallback judge rejects pairs beyond it. None: a share of the frame width."""
    default_weights: ClassVar[str | None] = None
    """Weights loaded when none are named: `NAME` (vnn's weights/NAME.safetensors) or a path
    ending in .safetensors, relative to the plugin's own file. None: needs no weights."""
    borrowed_weights: ClassVar[tuple[str, ...]] = ()
    """Other models' weights it uses as they are (`vnn models` shows their license)."""
    Params: ClassVar[type[ModelParams]] = ModelParams
    """Its constructor arguments (`--model-param KEY=VALUE`), validated before anything is built."""

    pad_multiple: int = 1
    """H and W are padded to a multiple of this, and cropped back. An instance attribute: a class
    value is the default, and `__init__` may set another from the parameters."""

    def __init__(self, **params: Any):
        super().__init__()
        self.pad_multiple = type(self).pad_multiple
        try:
            self.params = type(self).Params(**params)
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            raise SettingsError(f"invalid parameter '{key}' for model {type(self).__name__}: {first['msg']}") from None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in vars(cls):
            if name.startswith("_") or name in HOOKS:
                continue
            close = difflib.get_close_matches(name, HOOKS, n=1, cutoff=0.8)
            if close:
                raise PluginError(f"model {cls.__name__} declares '{name}', which is no hook of a model plugin: "
                                  f"did you mean '{close[0]}'?")

    def forward(self, frame0: torch.Tensor, frame1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """N×3×H×W frames in [0, 1] and t of shape N -> the N×3×H×W frames at t."""
        raise NotImplementedError

    def confidence(self, frame0: torch.Tensor, frame1: torch.Tensor) -> torch.Tensor | None:
        """The model's own trust in each pair, in [0, 1], asked before synthesis; a low one sends
        the pair to the fallback. None (the default): no opinion."""
        return None

    def work_notes(self) -> list[str]:
        """Lines for the job's notes on how the model made the pairs since it was last asked
        (e.g. the fusion's self-grading); the default: nothing to say."""
        return []

    @classmethod
    def has_confidence(cls) -> bool:
        return cls.confidence is not FrameInterpolator.confidence


# Every name a plugin may declare on its model class, for the misspelling check.
HOOKS = ("any_time", "uses_neighbours", "supports_scale", "allows_half", "max_motion", "default_weights",
         "borrowed_weights", "Params", "pad_multiple", "forward",
         "confidence", "work_notes")


def as_time_tensor(t: float | torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """`t` as an N×1×1×1 tensor on `like`'s device, for broadcasting against N×C×H×W frames."""
    t = torch.as_tensor(t, dtype=like.dtype, device=like.device)
    return t.reshape(-1, 1, 1, 1).expand(like.shape[0], 1, 1, 1)
