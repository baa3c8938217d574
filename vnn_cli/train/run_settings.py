"""A run folder keeps the settings it was started with (`settings.json`), so `--resume` needs only
`--run-dir`: the data, model and schedule come from the folder, not from flags typed again.

Flags given with `--resume` may lengthen or re-pace the run (`--steps`, `--val-every`,
`--checkpoint-every`, `--amp`); one that would change what the run trains on or how (data,
model, loss, crop, learning rate, seed, ...) is refused, since the checkpoint's weights and
optimizer state belong to the old value. Where to write and when to stop (`--export`,
`--minutes`, `--overwrite`) belong to each invocation and are never saved.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..core.atomic import atomic_file
from ..core.errors import InputError, SettingsError
from ..core.settings import TrainSettings
from .checkpoint import LATEST

RUN_SETTINGS = "settings.json"
PER_INVOCATION = frozenset({"run_dir", "export", "export_only", "overwrite", "minutes", "resume"})
ADJUSTABLE = frozenset({"steps", "val_every", "checkpoint_every", "amp"})
_PATHS = ("data", "val", "weights", "vgg_weights")


def _absolute(value: Any) -> Any:
    """Paths made absolute, so a run resumes from any folder."""
    if isinstance(value, list):
        return [_absolute(v) for v in value]
    return str(Path(value).expanduser().resolve()) if value is not None else None


def save_run_settings(settings: TrainSettings) -> Path:
    values = settings.model_dump(mode="json", exclude=set(PER_INVOCATION))
    for key in _PATHS:
        values[key] = _absolute(values[key])
    path = Path(settings.run_dir) / RUN_SETTINGS
    with atomic_file(path) as temp:
        Path(temp).write_text(json.dumps(values, indent=2) + "\n")
    return path


def _comparable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_comparable(v) for v in value]
    return Path(value).expanduser().resolve() if isinstance(value, Path) else value


def resumed_settings(section: TrainSettings, flags: dict[str, Any]) -> TrainSettings:
    """The settings to resume `section.run_dir` with: the run's own, then `flags` (the values given
    on the command line, already in settings form) where they may change, then `section`'s
    per-invocation keys. A run folder from before `settings.json` keeps `section` as it is."""
    run_dir = Path(section.run_dir)
    if not (run_dir / LATEST).is_file():
        raise InputError(f"nothing to resume in {run_dir}: no {LATEST} (start without --resume)")
    saved_path = run_dir / RUN_SETTINGS
    if not saved_path.is_file():
        if not section.data:
            raise InputError(f"{run_dir} has no {RUN_SETTINGS} (a run from an older vnn): "
                             "give its training flags again with --resume")
        return section
    try:
        saved = TrainSettings.model_validate({**json.loads(saved_path.read_text()), "run_dir": run_dir})
    except (ValueError, ValidationError) as exc:  # JSONDecodeError is a ValueError
        raise InputError(f"{saved_path}: not the settings of a run ({str(exc).splitlines()[0][:200]})") from None
    given = {k: v for k, v in flags.items() if k in TrainSettings.model_fields and k not in PER_INVOCATION}
    merged = TrainSettings.model_validate({**saved.model_dump(), **given,
                                           **{k: getattr(section, k) for k in PER_INVOCATION}})
    for key in given:
        if key in ADJUSTABLE:
            continue
        was, now = getattr(saved, key), getattr(merged, key)
        if _comparable(was) != _comparable(now):
            option = "--" + key.replace("_", "-")
            raise SettingsError(f"{option}: the run in {run_dir} was started with {_shown(was)}, not {_shown(now)}; "
                                f"a resumed run keeps its settings (use a new --run-dir to change them)")
    return merged


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or "none"
    return str(value)
