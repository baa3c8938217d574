"""Speed presets: which model, with which settings, when the user names no model.

- `fast`: classical flow (`vnnflow`: DIS with the border-aware mask), no network at all.
- `balanced` (the default): the `fusion` model with RIFE on every pair, each pair made the way the
  frames around it grade best (the blend, DIS or RIFE: `vnn_cli/nn/grading.py`). The cheap judge
  that sent only doubted tiles to RIFE could not see where DIS is consistently wrong: on unseen
  footage it left the default below plain RIFE (issue 15), so it is now only `rife=when_needed`.
- `best`: `balanced`, with RIFE's candidate the average of two networks, HDv3 and Practical-RIFE
  4.25 (an ensemble: about 2.2× RIFE's cost at 720p). Chosen on the tuning clips over RIFE on
  mirrored frames as well (test-time augmentation, 2× the cost): 37.96 against 37.92 dB
  (docs/experiments/ensemble.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .errors import SettingsError

Preset = Literal["fast", "balanced", "best"]
DEFAULT_PRESET: Preset = "balanced"
PRESETS: dict[str, tuple[str, dict[str, Any]]] = {
    "fast": ("vnnflow", {}),
    "balanced": ("fusion", {}),
    "best": ("fusion", {"rife": "always", "ensemble": "rife-4.25"}),
}


def resolve_model(model: str | None, preset: str | None, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(model name, its parameters): a named model as it is, otherwise the preset's (default balanced)."""
    if model is not None:
        if preset is not None:
            raise SettingsError(f"--preset {preset} picks a model itself: drop it or --model {model}")
        return model, dict(params)
    name, preset_params = PRESETS[preset or DEFAULT_PRESET]
    return name, {**preset_params, **params}


@dataclass(frozen=True)
class Measured:
    """What a preset gave in the README's `vnn bench` run (MEASURED_BY): mean PSNR (dB) on the
    tuning and the validation clips, and frames per second of the model alone at 1280×720."""

    psnr_tuning: float
    psnr_validation: float
    fps_720p: float


MEASURED_BY = ("vnn bench on the project's twelve clips (README's Results: 8 tuning, 4 validation), "
               "commit 2b50e26, 2-core Xeon with AMX, CPU, 2026-12-06")
MEASURED: dict[str, Measured] = {
    "fast": Measured(37.56, 44.72, 12.02),
    "balanced": Measured(37.89, 45.29, 1.90),
    "best": Measured(37.96, 45.40, 0.83),
}
