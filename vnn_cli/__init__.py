"""vnn: neural video frame interpolation. The library API; the CLI lives in `vnn_cli.cli`.

Names load on first use, so `import vnn_cli` (and `vnn --version`) costs no torch, OpenCV or moviepy.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._version import __version__

# public name -> the module that defines it
_EXPORTS = {
    "VnnError": "vnn_cli.core.errors",
    "SettingsError": "vnn_cli.core.errors",
    "FrameInterpolator": "vnn_cli.core.model_api",
    "ModelParams": "vnn_cli.core.model_api",
    "Neighbours": "vnn_cli.core.model_api",
    "as_time_tensor": "vnn_cli.core.model_api",
    "register_model": "vnn_cli.core.registry",
    "register_loss": "vnn_cli.core.registry",
    "list_models": "vnn_cli.core.registry",
    "list_losses": "vnn_cli.core.registry",
    "load_plugins": "vnn_cli.core.plugins",
    "load_model": "vnn_cli.nn.weights",
    "UNet": "vnn_cli.nn.unet",
    "Interpolator": "vnn_cli.render.engine",
}

__all__ = ["__version__", *sorted(_EXPORTS)]

if TYPE_CHECKING:
    from .core.errors import SettingsError, VnnError
    from .core.model_api import FrameInterpolator, ModelParams, Neighbours, as_time_tensor
    from .core.plugins import load_plugins
    from .core.registry import list_losses, list_models, register_loss, register_model
    from .nn.unet import UNet
    from .nn.weights import load_model
    from .render.engine import Interpolator


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'vnn_cli' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
