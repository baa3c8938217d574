"""vnn: neural video frame interpolation. The library API; the CLI lives in `vnn_cli.cli`."""
from ._version import __version__
from .errors import VnnError
from .model_api import FrameInterpolator, ModelParams, Neighbours
from .registry import load_plugins, register_loss, register_model
from .unet import UNet

__all__ = [
    "__version__",
    "FrameInterpolator",
    "ModelParams",
    "Neighbours",
    "UNet",
    "VnnError",
    "load_plugins",
    "register_loss",
    "register_model",
]
