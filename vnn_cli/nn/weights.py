"""Weights that describe themselves: `NAME.safetensors` beside a model card `NAME.json`.

The card names the model and its constructor arguments (so the model is rebuilt from the files
alone), the `vnn` version, how it was trained, its validation metrics and the SHA-256 of the
weights, which is checked before anything is loaded. No pickle from a weights file is ever run.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import inspect
import json
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, ValidationError
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from ..core import registry
from .._version import __version__
from ..core.atomic import atomic_file
from ..core.errors import WeightsError, describe
from ..core.model_guard import guarded
from ..core.model_api import FrameInterpolator


class ModelCard(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    params: dict[str, Any] = {}
    vnn_version: str
    sha256: str
    created: str
    training: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    # Where weights that vnn did not train come from, and the terms they carry (imported weights).
    source: dict[str, Any] = {}
    license: str | None = None
    license_notice: str | None = None


def weights_dir() -> Path:
    packaged = Path(__file__).parents[1] / "_weights"  # inside an installed wheel
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "weights"


def card_path(weights: Path) -> Path:
    return weights.with_suffix(".json")


def default_weights_path(model_cls: type[FrameInterpolator]) -> Path | None:
    """Where a model's default weights are: a name is vnn's own (weights/NAME.safetensors); a
    path ending in .safetensors is the plugin's own, relative to the file that defines the model,
    so a plugin package ships its weights beside its code."""
    name = model_cls.default_weights
    if name is None:
        return None
    if name.endswith(".safetensors"):
        source = inspect.getsourcefile(model_cls)
        return Path(source).resolve().parent / name if source else Path(name)
    return weights_dir() / f"{name}.safetensors"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_weights(model: FrameInterpolator, model_name: str, path: Path, *, training: dict | None = None,
                 metrics: dict | None = None, provenance: ModelCard | None = None) -> ModelCard:
    """Write the plain module's weights and its card, each atomically. `provenance`: the card of the
    weights these were made from; its source and license carry over (fine-tuned imported weights
    keep their notice)."""
    path = Path(path)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    with atomic_file(path) as temp:
        # Serialized in memory and written as a plain file: the umask applies (safetensors' own
        # writer makes files 0600) and a full disk raises an OSError that says so.
        temp.write_bytes(save(state, metadata={"model": model_name, "vnn_version": __version__}))
    card = ModelCard(
        model=model_name,
        params=model.params.model_dump(mode="json"),
        vnn_version=__version__,
        sha256=sha256_of(path),
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        training=training or {},
        metrics=metrics or {},
        source=provenance.source if provenance else {},
        license=provenance.license if provenance else None,
        license_notice=provenance.license_notice if provenance else None,
    )
    with atomic_file(card_path(path)) as temp:
        temp.write_text(json.dumps(card.model_dump(), indent=2) + "\n")
    return card


def read_card(weights: Path) -> ModelCard:
    path = card_path(weights)
    if not path.exists():
        raise WeightsError(f"weights {weights} have no model card {path.name} beside them")
    try:
        return ModelCard.model_validate_json(path.read_text())
    except (ValidationError, ValueError) as exc:
        raise WeightsError(f"model card {path} is invalid: {str(exc).splitlines()[0]}") from None


def load_torch_file(path: Path, what: str | None = None) -> Any:
    """What a `torch.save` file holds, read as tensors and plain values only (`weights_only=True`):
    a pickle can carry code, and none of it is run. `what` names the file in the error."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several unrelated types for a bad or unsafe file
        raise WeightsError(f"cannot read {what or f'checkpoint {path}'}: {describe(exc)[:200]}") from None


def _legacy_state(path: Path) -> dict[str, torch.Tensor]:
    """A .pt/.pth checkpoint the user named: its state dict (a training checkpoint's model part)."""
    state = load_torch_file(path)
    for key in ("model", "state_dict"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict):
        raise WeightsError(f"checkpoint {path} holds no state dict")
    return state


def resolve_weights(name: str, weights: Path | str | None) -> Path | None:
    """The weights file for model `name`: the path given, or a shipped weights name such as
    `rife-hdv3` (weights/rife-hdv3.safetensors), or the model's default (None: it needs none)."""
    if weights is None:
        return default_weights_path(registry.get_model(name).factory)
    path = Path(weights)
    shipped = weights_dir() / f"{path.name}.safetensors"
    # A shipped name may hold a dot (`rife-4.25`): any suffix but a weights file's own is a name.
    is_name = path.suffix not in (".safetensors", ".pt", ".pth") and path.parent == Path(".")
    if not path.exists() and is_name and shipped.exists():
        return shipped
    return path


def load_model(name: str, weights: Path | None = None, params: dict[str, Any] | None = None,
               device: torch.device | str = "cpu") -> FrameInterpolator:
    """Build the registered model `name` and load its weights (the shipped default unless named)."""
    cls = registry.get_model(name).factory
    params = dict(params or {})
    path = resolve_weights(name, weights)
    if path is None:
        model = guarded(cls, "__init__", lambda: cls(**params))
        return model.eval().to(device)
    if not path.exists():
        hint = "pass --weights FILE or train it with `vnn train`" if weights is None else "check the path"
        raise WeightsError(f"no weights for model '{name}' at {path}: {hint}")
    if path.suffix in (".pt", ".pth"):
        if weights is None:
            raise WeightsError(f"refusing to load pickle-based {path} that was not named explicitly")
        state = _legacy_state(path)
    else:
        card = read_card(path)
        if card.model != name:
            raise WeightsError(f"weights {path} are for model '{card.model}', not '{name}'")
        actual = sha256_of(path)
        if actual != card.sha256:
            raise WeightsError(f"weights {path} do not match their model card (SHA-256 {actual[:12]}… != {card.sha256[:12]}…)")
        params = {**card.params, **params}
        try:
            state = load_file(str(path))
        except (SafetensorError, OSError, ValueError) as exc:
            raise WeightsError(f"weights {path} are corrupt: {exc}") from None
    model = guarded(cls, "__init__", lambda: cls(**params))
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise WeightsError(f"weights {path} do not fit model '{name}': {str(exc).splitlines()[0]}") from None
    return model.eval().to(device)
