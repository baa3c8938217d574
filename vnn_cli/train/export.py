"""A run's best checkpoint -> `weights/<model>.safetensors` + model card (`vnn_cli.weights`).

The card records what the weights were trained on and how (clips, steps, wall time, device, loss)
and the validation PSNR/SSIM of the model beside blend and DIS on the same frames.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import registry
from ..weights import ModelCard, save_weights
from .checkpoint import BEST, load_checkpoint


def export_best(run_dir: Path, out: Path, extra_metrics: dict[str, Any] | None = None) -> ModelCard:
    """Write the best checkpoint of `run_dir` as weights at `out` (and `out` with .json)."""
    payload = load_checkpoint(Path(run_dir) / BEST)
    name = payload["model_name"]
    model = registry.get_model(name).factory(**json.loads(payload["params"]))
    model.load_state_dict(payload["model"])
    best = json.loads(payload["best"])
    metrics = {"protocol": "drop-frame: distinct frames, even frames in, odd frames predicted, PSNR on RGB",
               "validation": best, "baselines": json.loads(payload["baselines"])}
    metrics.update(extra_metrics or {})
    training = json.loads(payload["training"])
    training["best_step"] = best["step"] if best else None
    return save_weights(model.eval(), name, Path(out), training=training, metrics=metrics)
