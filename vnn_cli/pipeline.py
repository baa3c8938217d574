"""From settings to a ready interpolator: plugins loaded, device chosen, weights checked."""
from __future__ import annotations

from .device import select_device
from .engine import Interpolator
from .registry import load_plugins
from .settings import ModelChoice, RuntimeSettings
from .weights import load_model


def prepare_runtime(runtime: RuntimeSettings):
    load_plugins(runtime.plugins)
    return select_device(runtime.device, runtime.threads)


def build_interpolator(runtime: RuntimeSettings, choice: ModelChoice, batch_size: int = 4) -> Interpolator:
    device = prepare_runtime(runtime)
    model = load_model(choice.model, choice.weights, choice.model_params, device)
    return Interpolator(model, device, half=runtime.half, batch_size=batch_size)
