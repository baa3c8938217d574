"""Training checkpoints: written atomically, read back as tensors and plain values only.

A checkpoint is a dict of state dicts, numbers, strings and tensors saved with `torch.save`;
loading uses `load_torch_file` (`torch.load(weights_only=True)`), which refuses anything that
would run code.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..core.atomic import atomic_file
from ..core.errors import WeightsError
from ..nn.weights import load_torch_file

LATEST = "checkpoint.pt"
BEST = "best.pt"


def save_checkpoint(path: Path, payload: dict[str, Any]) -> Path:
    path = Path(path)
    with atomic_file(path) as temp:
        torch.save(payload, temp)
    return path


def load_checkpoint(path: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"no checkpoint at {path}")
    payload = load_torch_file(path)
    if not isinstance(payload, dict) or "model" not in payload:
        raise WeightsError(f"{path} is not a vnn training checkpoint")
    return payload
