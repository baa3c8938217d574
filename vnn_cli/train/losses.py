"""Combine registered losses with a spec such as `charbonnier+0.1*census`. A loss is a plugin like a
model: building and calling it go through `model_guard`, so its failure is one line naming its file."""
from __future__ import annotations

import re
from typing import Any, Callable

import torch

from ..core import registry
from ..core.errors import SettingsError
from ..core.model_guard import guarded
from ..core.registry import PluginEntry

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

_TERM = re.compile(r"^\s*(?:(\d+(?:\.\d*)?(?:e-?\d+)?|\.\d+)\s*\*\s*)?([A-Za-z_][\w-]*)\s*$")


def parse_spec(spec: str) -> list[tuple[float, str]]:
    """'charbonnier+0.1*census' -> [(1.0, 'charbonnier'), (0.1, 'census')]."""
    terms = []
    for part in spec.split("+"):
        match = _TERM.match(part)
        if not match:
            raise SettingsError(f"invalid loss spec '{spec}': '{part.strip()}' is not NAME or WEIGHT*NAME")
        weight, name = match.groups()
        terms.append((float(weight) if weight else 1.0, name))
    return terms


class CombinedLoss(torch.nn.Module):
    """A weighted sum of loss plugins; `last_terms` keeps each term's value for progress displays."""

    def __init__(self, terms: list[tuple[float, PluginEntry, torch.nn.Module | LossFn]]):
        super().__init__()
        self.weights = [w for w, _, _ in terms]
        self.entries = [e for _, e, _ in terms]
        self.parts = torch.nn.ModuleList(f if isinstance(f, torch.nn.Module) else _Wrap(f) for _, _, f in terms)
        self.last_terms: dict[str, float] = {}

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        total = prediction.new_zeros(())
        for weight, entry, part in zip(self.weights, self.entries, self.parts):
            value = guarded(entry, "its call", lambda: part(prediction, target))
            self.last_terms[entry.name] = float(value.detach())
            total = total + weight * value
        return total


class _Wrap(torch.nn.Module):
    def __init__(self, fn: LossFn):
        super().__init__()
        self.fn = fn

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.fn(prediction, target)


def build_loss(spec: str, **options: Any) -> CombinedLoss:
    """Each term's factory gets the `options` it accepts by name (e.g. `vgg_weights` for `perceptual`)."""
    import inspect

    terms = []
    for weight, name in parse_spec(spec):
        entry = registry.get_loss(name)
        accepted = inspect.signature(entry.factory).parameters
        kwargs = {k: v for k, v in options.items() if k in accepted}
        terms.append((weight, entry, guarded(entry, "its factory", lambda: entry.factory(**kwargs))))
    return CombinedLoss(terms)
