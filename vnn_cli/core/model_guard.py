"""The one place the pipeline calls a model plugin (and training a loss plugin). A plugin is foreign
code: whatever it raises becomes one `PluginError` naming its file, and what a model returns is
checked before anything is written, since a wrong shape, one channel or NaN would otherwise go out
as broken frames.
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from .errors import PluginError, VnnError, describe
from .registry import PluginEntry, model_origin

# Not the plugin's fault, and handled elsewhere: vnn's own errors raised inside (a model loading
# another's weights), memory running out (the engine retries CUDA out-of-memory with smaller tiles).
# Interrupts are BaseExceptions and pass anyway.
_PASS_THROUGH = (VnnError, torch.cuda.OutOfMemoryError, MemoryError)


def _shape(x: torch.Tensor) -> str:
    return "×".join(str(d) for d in x.shape)


def plugin_origin(plugin: type | PluginEntry) -> str:
    """`model 'NAME' (FILE)` for a model class, `loss 'NAME' (FILE)` for a loss's registry entry."""
    if isinstance(plugin, PluginEntry):
        return f"{plugin.kind} '{plugin.name}' ({plugin.origin})"
    return model_origin(plugin)


def guarded(plugin: type | PluginEntry, what: str, call: Callable[[], Any]) -> Any:
    """`call()`, with any failure of the plugin's own code as one line that names its file.
    `plugin`: a model class, or the registry entry of a plugin (a loss: its factory is no class)."""
    try:
        return call()
    except _PASS_THROUGH:
        raise
    except (Exception, SystemExit) as exc:
        raise PluginError(f"{plugin_origin(plugin)} failed in {what}: {describe(exc)}") from exc


def check_frames(model: torch.nn.Module, out: Any, frames: torch.Tensor) -> torch.Tensor:
    """`out` if it is a batch of frames like `frames` (N×3×H×W floats, all finite), else a PluginError."""
    who = model_origin(type(model))
    if not isinstance(out, torch.Tensor):
        raise PluginError(f"{who} returned a {type(out).__name__}, not a tensor of frames")
    if out.shape != frames.shape:
        raise PluginError(f"{who} returned {_shape(out)} for frames of {_shape(frames)}: "
                          "a model returns N×3×H×W, the shape of the frames it is given")
    if not out.is_floating_point():
        raise PluginError(f"{who} returned {out.dtype} values: a model returns floats in [0, 1]")
    # The extremes carry any NaN or infinity, without a mask as large as the frames: at 720p
    # `isfinite(out).all()` took 11 ms a frame (channels_last), a twentieth of a `fast` pair;
    # `amin` and `amax` take 0.3 ms each (`aminmax` is slow on channels_last).
    if out.numel() and not bool(torch.isfinite(torch.stack([out.amin(), out.amax()])).all()):
        raise PluginError(f"{who} returned NaN or infinite values")
    return out


def run_model(model: torch.nn.Module, frame0: torch.Tensor, frame1: torch.Tensor, t: torch.Tensor,
              **kwargs: Any) -> torch.Tensor:
    """`model(frame0, frame1, t, **kwargs)`, guarded and checked."""
    out = guarded(type(model), "forward", lambda: model(frame0, frame1, t, **kwargs))
    return check_frames(model, out, frame0)
