"""Training checkpoints: written atomically, read back as tensors and plain values only.

A checkpoint is a dict of state dicts, numbers, strings and tensors saved with `torch.save`;
loading uses `torch.load(weights_only=True)`, which refuses anything that would run code.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..core.atomic import atomic_file
from ..core.errors import WeightsError

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
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several unrelated types for a bad or unsafe file
        raise WeightsError(f"cannot read checkpoint {path}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from None
    if not isinstance(payload, dict) or "model" not in payload:
        raise WeightsError(f"{path} is not a vnn training checkpoint")
    return payload
