"""From settings to a ready interpolator: plugins loaded, device chosen, weights checked."""
from __future__ import annotations

import warnings

from ..core.device import select_device
from .engine import Interpolator
from ..core.errors import VnnWarning
from ..core.plugins import load_plugins
from ..core.settings import ModelChoice, RuntimeSettings
from ..nn.weights import default_weights_path, load_model


def prepare_runtime(runtime: RuntimeSettings):
    load_plugins(runtime.plugins)
    return select_device(runtime.device, runtime.threads)


def warn_if_untrained(model, name: str, weights) -> None:
    """A neural model with no weights to load runs as initialised: its frames may be anything, so
    say so (a model with no parameters, like blend, needs none)."""
    if weights is not None or default_weights_path(type(model)) is not None:
        return
    count = sum(p.numel() for p in model.parameters() if p.requires_grad)  # frozen borrowed weights are loaded
    if count:
        warnings.warn(VnnWarning(f"model '{name}' runs untrained: it has {count:,} parameters and no weights "
                                 "(pass --weights FILE, or train it with `vnn train`)"), stacklevel=2)


def build_interpolator(runtime: RuntimeSettings, choice: ModelChoice, batch_size: int = 4) -> Interpolator:
    device = prepare_runtime(runtime)
    name, params = choice.resolved()
    model = load_model(name, choice.weights, params, device)
    warn_if_untrained(model, name, choice.weights)
    return Interpolator(model, device, half=runtime.half, batch_size=batch_size)
