"""VGG16's convolutional part as a frozen feature extractor for the perceptual loss.

The layers are numbered exactly as in torchvision's `vgg16().features`, so a torchvision state_dict
(`features.N.weight`, `features.N.bias`) loads as it is; its classifier keys are ignored. Nothing is
ever downloaded: the weights come from a local `.pth` or `.safetensors` file the user names
(setting `vgg_weights` or environment `VNN_VGG_WEIGHTS`).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import torch
from torch import nn

from ..core.errors import SettingsError, WeightsError, describe
from .weights import load_torch_file

ENV_VAR = "VNN_VGG_WEIGHTS"

# torchvision's VGG16 configuration "D": output channels per conv, "M" for a 2×2 max-pool.
_CONFIG: list[int | str] = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]

# Index in `features` of the ReLU that ends each named block.
LAYERS = {"relu1_2": 3, "relu2_2": 8, "relu3_3": 15, "relu4_3": 22, "relu5_3": 29}
DEFAULT_LAYERS = ("relu1_2", "relu2_2", "relu3_3")

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

MISSING_WEIGHTS_HELP = (
    "the perceptual loss needs VGG16 weights in torchvision's state_dict layout (keys features.N.weight/bias) "
    "in a local .pth or .safetensors file; set vgg_weights (vgg_weights = \"FILE\" under [train] in vnn.toml, or "
    f"VNN_TRAIN_VGG_WEIGHTS=FILE) or {ENV_VAR}=FILE; nothing is downloaded"
)


def _build_features(last_index: int) -> nn.Sequential:
    """torchvision's `features` layers 0..last_index (later layers are never needed)."""
    layers: list[nn.Module] = []
    channels = 3
    for item in _CONFIG:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(channels, int(item), 3, padding=1), nn.ReLU(inplace=False)]
            channels = int(item)
    return nn.Sequential(*layers[: last_index + 1])


def resolve_weights_path(setting: str | os.PathLike | None) -> Path:
    """The weights file from the setting, else from the environment; a SettingsError if neither."""
    raw = setting if setting not in (None, "") else os.environ.get(ENV_VAR) or None
    if raw is None:
        raise SettingsError(MISSING_WEIGHTS_HELP)
    return Path(raw).expanduser()


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise WeightsError(f"VGG16 weights file {path} does not exist (nothing is downloaded: name a local file "
                           "holding torchvision's vgg16 state_dict)")
    what = f"VGG16 weights from {path}"
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            state = load_file(str(path), device="cpu")
        except Exception as exc:  # a corrupt or foreign file: any reader error means the same to the user
            raise WeightsError(f"cannot read {what}: {describe(exc)}") from None
    else:
        state = load_torch_file(path, what)
    if isinstance(state, Mapping) and "state_dict" in state and isinstance(state["state_dict"], Mapping):
        state = state["state_dict"]
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path} is not a state_dict of tensors (expected torchvision's vgg16 layout)")
    return dict(state)


def features_state(state: Mapping[str, torch.Tensor], path: Path | str = "<state_dict>") -> dict[str, torch.Tensor]:
    """`features.N.*` keys with the prefix dropped (a bare `features` state_dict is accepted too)."""
    if any(k.endswith("running_mean") for k in state):
        raise WeightsError(f"{path} holds a batch-norm VGG (vgg16_bn); the perceptual loss needs plain vgg16 weights")
    if any(k.startswith("features.") for k in state):
        return {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
    return dict(state)


class VGG16Features(nn.Module):
    """Frozen VGG16 features: `forward(x)` with x N×3×H×W in [0, 1] -> {layer name: activation}."""

    def __init__(self, layers: Sequence[str] = DEFAULT_LAYERS):
        super().__init__()
        unknown = [name for name in layers if name not in LAYERS]
        if unknown or not layers:
            raise SettingsError(f"unknown VGG16 layer(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(LAYERS)}")
        self.layers = tuple(sorted(layers, key=LAYERS.__getitem__))
        self.features = _build_features(max(LAYERS[name] for name in self.layers))
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "VGG16Features":
        return super().train(False)  # no dropout or batch norm here, but keep it frozen whatever the caller does

    def load_weights(self, state: Mapping[str, torch.Tensor], source: Path | str = "<state_dict>") -> None:
        wanted = self.features.state_dict()
        given = features_state(state, source)
        missing = sorted((k for k in wanted if k not in given), key=_layer_order)
        if missing:
            sample = ", ".join(f"features.{k}" for k in missing[:4]) + (" ..." if len(missing) > 4 else "")
            found = ", ".join(sorted(state)[:4]) + (" ..." if len(state) > 4 else "")
            raise WeightsError(
                f"{source} is not a torchvision vgg16 state_dict: missing {sample} (found keys: {found or 'none'})"
            )
        for key, tensor in wanted.items():
            if given[key].shape != tensor.shape:
                raise WeightsError(
                    f"{source}: features.{key} has shape {tuple(given[key].shape)}, VGG16 needs {tuple(tensor.shape)}"
                )
        self.features.load_state_dict({k: given[k].float() for k in wanted})

    @classmethod
    def from_file(cls, path: str | os.PathLike | None, layers: Sequence[str] = DEFAULT_LAYERS) -> "VGG16Features":
        """Load from `path`, or from $VNN_VGG_WEIGHTS when `path` is None."""
        resolved = resolve_weights_path(path)
        model = cls(layers)
        model.load_weights(read_state_dict(resolved), resolved)
        return model

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)
        wanted = {LAYERS[name]: name for name in self.layers}
        outputs: dict[str, torch.Tensor] = {}
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in wanted:
                outputs[wanted[index]] = x
        return outputs


def _layer_order(key: str) -> tuple[int, bool]:
    number, _, rest = key.partition(".")
    return (int(number), rest != "weight") if number.isdigit() else (10**6, True)
