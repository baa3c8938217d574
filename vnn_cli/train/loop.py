"""The training loop: AdamW with linear warm-up then cosine decay, validation on the drop-frame
protocol beside the blend and DIS baselines, checkpoints, exact resume.

Everything a step depends on is a function of the step number (the batch comes from (seed, step),
the learning rate from the schedule) or is saved in the checkpoint (weights, optimizer moments,
torch's RNG), so a resumed run continues the same curve as an uninterrupted one.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from ..core import registry
from ..core.errors import Interrupted, SettingsError
from ..core.model_api import FrameInterpolator
from ..core.model_guard import guarded
from ..core.settings import TrainSettings
from ..eval.scoring import grade, predict_dropped
from ..nn.weights import load_model, resolve_weights
from ..render.engine import Interpolator
from .checkpoint import BEST, LATEST, load_checkpoint, save_checkpoint
from .data import TrainingSet, ValidationClip, load_training_set, load_validation, split_sources
from .losses import build_loss
from .run_settings import save_run_settings

BASELINES = ("blend", "dis")


@dataclass
class Progress:
    """What a progress display shows after each step (and after each validation)."""

    step: int
    total: int
    loss: float
    lr: float
    steps_per_second: float
    seconds_left: float
    validation: dict[str, Any] | None = None
    best_psnr: float | None = None
    message: str = ""


@dataclass
class TrainResult:
    run_dir: Path
    steps: int
    losses: list[tuple[int, float]] = field(default_factory=list)
    best: dict[str, Any] | None = None
    baselines: dict[str, dict[str, Any]] = field(default_factory=dict)
    stopped_early: bool = False


def learning_rate(step: int, base: float, warmup: int, total: int, floor: float = 0.02) -> float:
    """Linear warm-up over `warmup` steps, then a cosine down to `floor`·base at `total`."""
    if warmup and step < warmup:
        return base * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return base * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))


def evaluate(model: FrameInterpolator, clips: list[ValidationClip], device: torch.device) -> dict[str, Any]:
    """Mean PSNR/SSIM per clip, and their means over clips: the drop-frame protocol's numbers, the
    model run as `vnn interpolate` runs it (so a plugin's failure reads as it does there), and
    without neighbours, as it trains."""
    was_training = model.training
    interpolator = Interpolator(model, device)
    per_clip = {}
    try:
        for clip in clips:
            predictions, _ = predict_dropped(interpolator, clip.triplets)
            psnrs, ssims = grade(predictions, clip.triplets)
            per_clip[clip.name] = {"psnr": float(np.mean(psnrs)), "ssim": float(np.mean(ssims))}
    finally:
        model.train(was_training)
    return {
        "psnr": float(np.mean([v["psnr"] for v in per_clip.values()])),
        "ssim": float(np.mean([v["ssim"] for v in per_clip.values()])),
        "clips": per_clip,
    }


def _rounded(result: dict[str, Any]) -> dict[str, Any]:
    out = {"psnr": round(result["psnr"], 3), "ssim": round(result["ssim"], 4)}
    out["clips"] = {k: {"psnr": round(v["psnr"], 3), "ssim": round(v["ssim"], 4)} for k, v in result["clips"].items()}
    return out


class Trainer:
    """Builds data, model, optimizer and loss from `TrainSettings` and runs (or resumes) a run."""

    def __init__(self, settings: TrainSettings, device: torch.device | str = "cpu",
                 progress: Callable[[Progress], None] | None = None,
                 loading: Callable[[int, int], None] | None = None):
        name, params = settings.resolved()  # a preset names the model to train
        self.settings = s = settings.model_copy(update={"model": name, "model_params": params, "preset": None})
        self.device = torch.device(device)
        self.progress = progress or (lambda p: None)
        self.run_dir = Path(s.run_dir)
        self.amp = s.amp and self.device.type == "cuda"
        train_paths, val_paths = split_sources(s.data, s.val)
        self.train_names = [p.name if p.is_file() else f"{p.parent.name}/{p.name}" for p in train_paths]
        self.data: TrainingSet = load_training_set(train_paths, s.crop, s.strides, s.min_motion, s.scene_threshold, progress=loading,
                                                     motion_crops=s.motion_crops)
        self.val_clips = load_validation(val_paths, s.val_frames, s.val_max_width)
        torch.manual_seed(s.seed)  # the same seed, the same initial weights
        self.model = self._build_model()
        if s.crop % self.model.pad_multiple:
            raise SettingsError(f"--crop {s.crop} must be a multiple of {self.model.pad_multiple} for model '{s.model}'")
        self.loss = build_loss(s.loss, vgg_weights=s.vgg_weights).to(self.device)
        decay = [p for n, p in self.model.named_parameters() if p.ndim > 1]
        no_decay = [p for n, p in self.model.named_parameters() if p.ndim <= 1]
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": s.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=s.lr)
        self.step = 0
        self.validated = -1  # the last step validated: a run stopped during a validation redoes it
        self.elapsed = 0.0
        self.best: dict[str, Any] | None = None
        self.baselines: dict[str, dict[str, Any]] = {}

    def _build_model(self) -> FrameInterpolator:
        s = self.settings
        if s.weights is not None:  # fine-tune from existing weights
            model = load_model(s.model, s.weights, s.model_params)
        else:
            cls = registry.get_model(s.model).factory
            model = guarded(cls, "__init__", lambda: cls(**s.model_params))
        if not any(p.requires_grad for p in model.parameters()):
            raise SettingsError(f"model '{s.model}' has no weights to train")
        return self._training_layout(model.to(self.device).train())

    def _training_layout(self, model: FrameInterpolator) -> FrameInterpolator:
        """channels_last on CUDA, where convolutions run faster so; torch's default elsewhere.
        Validation runs the model through `Interpolator`, which sets a layout of its own: this sets
        it back, so that the steps after a validation run as they would without one."""
        return model.to(memory_format=torch.channels_last if self.device.type == "cuda" else torch.contiguous_format)

    # -- checkpoints ---------------------------------------------------------------------------

    def _payload(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "model_name": self.settings.model,
            "params": json.dumps(self.model.params.model_dump(mode="json")),
            "optimizer": self.optimizer.state_dict(),
            "step": self.step,
            "validated": self.validated,
            "elapsed": self.elapsed,
            "torch_rng": torch.get_rng_state(),
            "best": json.dumps(self.best),
            "baselines": json.dumps(self.baselines),
            "training": json.dumps(self.training_info()),
        }

    def save(self) -> Path:
        return save_checkpoint(self.run_dir / LATEST, self._payload())

    def resume(self) -> None:
        payload = load_checkpoint(self.run_dir / LATEST)
        if payload.get("model_name") != self.settings.model:
            raise SettingsError(f"checkpoint in {self.run_dir} is for model '{payload.get('model_name')}', not '{self.settings.model}'")
        self.model.load_state_dict(payload["model"])
        self.optimizer.load_state_dict(payload["optimizer"])
        self.step = int(payload["step"])
        self.validated = int(payload.get("validated", -1))  # older checkpoints: validate again, harmless
        self.elapsed = float(payload["elapsed"])
        torch.set_rng_state(payload["torch_rng"])
        self.best = json.loads(payload["best"])
        self.baselines = json.loads(payload["baselines"])

    def _save_best(self, validation: dict[str, Any]) -> None:
        self.best = {"step": self.step, **_rounded(validation)}
        payload = {
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "model_name": self.settings.model,
            "params": json.dumps(self.model.params.model_dump(mode="json")),
            "step": self.step,
            "best": json.dumps(self.best),
            "baselines": json.dumps(self.baselines),
            "training": json.dumps(self.training_info()),
        }
        save_checkpoint(self.run_dir / BEST, payload)

    def training_info(self) -> dict[str, Any]:
        s = self.settings
        return {
            "data": self.train_names,
            "validation": [c.name for c in self.val_clips],
            "steps": self.step,
            "wall_time_s": round(self.elapsed, 1),
            "device": str(self.device) if self.device.type != "cpu" else f"cpu ({torch.get_num_threads()} threads)",
            "loss": s.loss,
            "batch_size": s.batch_size,
            "crop": s.crop,
            "lr": s.lr,
            "strides": list(s.strides),
            "motion_crops": s.motion_crops,
            "seed": s.seed,
            "examples": len(self.data.candidates),
            # Fine-tuned weights keep the source and license of the weights they started from.
            "fine_tuned_from": str(resolve_weights(s.model, s.weights)) if s.weights is not None else None,
        }

    # -- the loop ------------------------------------------------------------------------------

    def validate(self) -> dict[str, Any]:
        if not self.baselines:
            for name in BASELINES:
                if name in registry.list_models():
                    self.baselines[name] = _rounded(evaluate(load_model(name, device=self.device), self.val_clips, self.device))
        result = evaluate(self.model, self.val_clips, self.device)
        self._training_layout(self.model)
        if self.best is None or result["psnr"] > self.best["psnr"]:
            self._save_best(result)
        self._log({"step": self.step, "validation": _rounded(result)})
        self.validated = self.step
        return result

    def _validation_due(self) -> bool:
        s = self.settings
        return self.step % s.val_every == 0 or self.step == s.steps

    def _log(self, entry: dict[str, Any]) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with open(self.run_dir / "log.jsonl", "a") as log:
            log.write(json.dumps(entry) + "\n")

    def _train_step(self) -> float:
        s = self.settings
        lr = learning_rate(self.step, s.lr, s.warmup_steps, s.steps)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        tensors = self.data.batch(s.seed, self.step, s.batch_size)
        frame0, frame1, target, t = (x.to(self.device, non_blocking=True) for x in tensors)
        if self.device.type == "cuda":
            frame0, frame1, target = (x.contiguous(memory_format=torch.channels_last) for x in (frame0, frame1, target))
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            prediction = guarded(type(self.model), "forward", lambda: self.model(frame0, frame1, t))
            loss = self.loss(prediction.float(), target)
        if not torch.isfinite(loss):
            raise SettingsError(f"the loss became {float(loss)} at step {self.step}: lower --lr")
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.step += 1
        return float(loss.detach())

    def run(self, resume: bool = False, minutes: float | None = None) -> TrainResult:
        """Train to `settings.steps` (or for `minutes` of this session); checkpoint on the way and
        when interrupted (then raise `Interrupted` saying where the checkpoint is)."""
        s = self.settings
        if resume:
            self.resume()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        save_run_settings(s)
        result = TrainResult(self.run_dir, self.step)
        start = time.monotonic()
        started_step = self.step
        last = start
        recent: list[float] = []
        validation = None
        try:
            # The step counter moves before its validation, so a run stopped during one (or a new
            # run, at step 0) validates the step it starts at; otherwise a resumed run would never
            # judge those weights, and `best` could stay at the untrained model.
            if self._validation_due() and self.validated != self.step:
                start_point = self.validate()
                self.progress(Progress(self.step, s.steps, float("nan"), learning_rate(self.step, s.lr, s.warmup_steps, s.steps),
                                       0.0, float("inf"), start_point, self.best["psnr"]))
            while self.step < s.steps:
                loss = self._train_step()
                now = time.monotonic()
                self.elapsed += now - last
                last = now
                result.losses.append((self.step, loss))
                recent = (recent + [loss])[-50:]
                rate = (self.step - started_step) / max(now - start, 1e-9)
                if self._validation_due():
                    validation = self.validate()
                    last = time.monotonic()  # validation is not training time
                if self.step % s.checkpoint_every == 0 or self.step == s.steps:
                    self.save()
                    self._log({"step": self.step, "loss": float(np.mean(recent)), "lr": self.optimizer.param_groups[0]["lr"],
                               "elapsed": round(self.elapsed, 1)})
                self.progress(Progress(self.step, s.steps, float(np.mean(recent)), self.optimizer.param_groups[0]["lr"], rate,
                                       (s.steps - self.step) / rate if rate > 0 else float("inf"), validation,
                                       self.best["psnr"] if self.best else None))
                validation = None
                if minutes is not None and now - start >= 60 * minutes:
                    self.save()
                    result.stopped_early = True
                    break
        except (KeyboardInterrupt, Interrupted) as exc:
            path = self.save()
            signal_name = exc.signal_name if isinstance(exc, Interrupted) else "SIGINT"
            detail = f"step {self.step} saved to {path}; --run-dir {self.run_dir} --resume continues"
            raise Interrupted(signal_name, detail) from None
        result.steps = self.step
        result.best = self.best
        result.baselines = self.baselines
        return result
