"""A run's best checkpoint -> `weights/<model>.safetensors` + model card (`vnn_cli.nn.weights`).

The card records what the weights were trained on and how (clips, steps, wall time, device, loss)
and the validation PSNR/SSIM of the model beside blend and DIS on the same frames.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from ..core import registry
from ..video.output_guard import check_output
from ..nn.weights import ModelCard, card_path, read_card, save_weights
from .checkpoint import BEST, load_checkpoint


def check_export(out: Path, overwrite: bool = False, inputs: Iterable[Path] = ()) -> None:
    """Refuse, before any training, weights or a card that would replace an input (a training
    video, a checkpoint of the run) or existing weights without --overwrite."""
    for path in (Path(out), card_path(Path(out))):
        check_output(path, overwrite, inputs)


def export_best(run_dir: Path, out: Path, extra_metrics: dict[str, Any] | None = None, *, overwrite: bool = False,
                inputs: Iterable[Path] = ()) -> ModelCard:
    """Write the best checkpoint of `run_dir` as weights at `out` (and `out` with .json)."""
    run_dir = Path(run_dir)
    check_export(out, overwrite, [*inputs, *(p for p in run_dir.glob("*") if p.is_file())])
    payload = load_checkpoint(run_dir / BEST)
    name = payload["model_name"]
    model = registry.get_model(name).factory(**json.loads(payload["params"]))
    model.load_state_dict(payload["model"])
    best = json.loads(payload["best"])
    metrics = {"protocol": "drop-frame: distinct frames, even frames in, odd frames predicted, PSNR on RGB",
               "validation": best, "baselines": json.loads(payload["baselines"])}
    metrics.update(extra_metrics or {})
    training = json.loads(payload["training"])
    training["best_step"] = best["step"] if best else None
    start = training.get("fine_tuned_from")
    provenance = read_card(Path(start)) if start and card_path(Path(start)).exists() else None
    return save_weights(model.eval(), name, Path(out), training=training, metrics=metrics, provenance=provenance)
