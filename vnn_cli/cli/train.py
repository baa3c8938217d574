"""`vnn train`: train a model plugin, resume a run, export its best checkpoint as weights."""
from __future__ import annotations

import json
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ..render.pipeline import prepare_runtime
from ..train.export import check_export, export_best
from ..train.loop import Trainer
from ..train.run_settings import resumed_settings
from .common import command, model_param_option, pass_params, progress_option, runtime_options, settings_for
from .progress import LineProgress
from .render import console, console_err, progress_mode


def _numbers(text: str | None, option: str) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"'{text}' is not a list of whole numbers, e.g. 1,2", param_hint=option) from None


def _validation_line(validation: dict, baselines: dict) -> str:
    parts = [f"val PSNR {validation['psnr']:.2f} dB SSIM {validation['ssim']:.4f}"]
    parts += [f"{name} {b['psnr']:.2f}" for name, b in baselines.items()]
    return " | ".join(parts)


@command("train", "vnn train --data videos/ --val held_out.mp4 --steps 20000 --export weights/vnnflow.safetensors")
@click.option("-m", "--model", default=None, help="Model to train (default: the default model).")
@click.option("--data", multiple=True, type=click.Path(path_type=Path),
              help="Training videos, folders of videos, or folders of triplets (im1/im2/im3.png); repeatable.")
@click.option("--val", multiple=True, type=click.Path(path_type=Path),
              help="Validation videos or triplet folders (default: the last training source, held out whole).")
@click.option("--loss", default=None, help="Loss spec, e.g. charbonnier+0.1*census (see `vnn models`).")
@click.option("--steps", type=int, default=None, help="Training steps (default 1000).")
@click.option("--batch-size", type=int, default=None, help="Crops per step (default 8).")
@click.option("--crop", type=int, default=None, help="Crop size in pixels (default 128).")
@click.option("--lr", type=float, default=None, help="Peak learning rate (default 3e-4).")
@click.option("--weight-decay", type=float, default=None, help="AdamW weight decay (default 1e-4).")
@click.option("--warmup-steps", type=int, default=None, help="Linear warm-up steps before the cosine decay (default 100).")
@click.option("--strides", default=None, help="Frame strides, e.g. 1,2: (i, i+1, i+2) and (i, i+2, i+4).")
@click.option("--min-motion", type=float, default=None, help="Skip examples moving less than this (mean 0-255 difference).")
@click.option("--motion-crops", type=float, default=None,
              help="Share of crops centred where the frames differ, 0-1 (default 0: all crops fall anywhere).")
@click.option("--seed", type=int, default=None, help="Seed: the same seed and settings give the same run.")
@click.option("--checkpoint-every", type=int, default=None, help="Save a checkpoint every N steps (default 200).")
@click.option("--val-every", type=int, default=None, help="Validate every N steps (default 200).")
@click.option("--val-frames", type=int, default=None, help="Frames per validation clip for the drop-frame protocol (default 9).")
@click.option("--val-max-width", type=int, default=None, help="Validation frames are scaled down to this width (default 640).")
@click.option("--run-dir", type=click.Path(path_type=Path), default=None, help="Checkpoints and log (default runs/train).")
@click.option("--weights", type=click.Path(path_type=Path), default=None, help="Start from these weights (fine-tuning).")
@model_param_option
@click.option("--minutes", type=float, default=None, help="Stop after this many minutes (checkpointed; --resume continues).")
@click.option("--resume/--no-resume", default=None, help="Continue the run in --run-dir from its last checkpoint.")
@click.option("--export", type=click.Path(path_type=Path), default=None,
              help="When done, write the best checkpoint as weights + model card here (e.g. weights/NAME.safetensors).")
@click.option("--export-only", is_flag=True, default=None, help="Only export --run-dir's best checkpoint to --export.")
@click.option("--overwrite/--no-overwrite", default=None, help="Let --export replace existing weights (default: refuse).")
@click.option("--amp/--no-amp", default=None, help="bf16 mixed precision on CUDA (default on).")
@progress_option
@runtime_options
@pass_params
def train_command(params: dict) -> None:
    """Train a model plugin on videos or triplet folders, validating on whole held-out videos.

    Validation uses the drop-frame protocol (every other frame predicted) and shows blend and DIS
    on the same frames. Checkpoints go to --run-dir every --checkpoint-every steps and on Ctrl-C;
    `--run-dir R --resume` continues exactly where a run stopped, with the settings saved in R
    (--steps, --val-every, --checkpoint-every may change; other training flags must match).
    --export writes the best checkpoint as weights that `vnn interpolate --weights` (or the
    model's default path) loads.
    """
    params["strides"] = _numbers(params.pop("strides"), "--strides")
    given = {k: list(v) if isinstance(v, tuple) else v for k, v in params.items() if v is not None and v != ()}
    runtime, section = settings_for("train", params)
    if section.resume and not section.export_only:
        section = resumed_settings(section, given)
    device = prepare_runtime(runtime)
    if section.export_only:
        if section.export is None:
            raise click.UsageError("--export-only needs --export PATH")
        card = export_best(section.run_dir, section.export, overwrite=section.overwrite, inputs=_read(section))
        console.print(f"{section.export}: step {card.training.get('steps')}, validation PSNR {card.metrics['validation']['psnr']:.2f} dB")
        return
    if section.export is not None:  # before hours of training, not after
        check_export(section.export, section.overwrite, _read(section))
    with _display() as display:
        trainer = Trainer(section, device, progress=display.update, loading=display.loading)
        if section.resume:
            trainer.resume()
            console_err.print(f"resumed from step {trainer.step} of {section.steps} in {section.run_dir}", highlight=False)
        display.start(trainer)
        result = trainer.run(minutes=section.minutes)
    best = result.best
    if best:
        console.print(f"best: step {best['step']}, {_validation_line(best, result.baselines)}")
    console.print(f"{result.run_dir}: {result.steps} steps" + (" (stopped by --minutes; --resume continues)" if result.stopped_early else ""))
    if section.export is not None:
        export_best(section.run_dir, section.export, overwrite=section.overwrite, inputs=_read(section))
        console.print(f"exported the best checkpoint to {section.export}")


def _read(section) -> list[Path]:
    """What training reads, that --export must never replace."""
    return [*section.data, *section.val, *(p for p in (section.weights, section.vgg_weights) if p is not None)]


def _data_line(trainer: Trainer) -> str:
    data = trainer.data
    return (f"training on {len(data.clips)} sources, {len(data.candidates)} examples "
            f"(skipped: {data.skipped['static']} static, {data.skipped['scene cut']} across a cut); "
            f"validating on {', '.join(c.name for c in trainer.val_clips)}")


def _display():
    """The training display `--progress` asks for: a bar on a terminal (`auto`, `bar`), else a
    line every `progress_interval` seconds (`plain`, or one JSON object a line with `json`), or
    nothing but the validation results (`none`)."""
    mode, interval, by_default = progress_mode()
    if mode == "bar":
        return _TrainDisplay()
    return _TrainLines(interval, mode, always_final=not by_default)


class _TrainDisplay:
    """A rich bar with loss, learning rate, steps/s and time left, plus a line per validation."""

    def __init__(self):
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("loss {task.fields[loss]}  lr {task.fields[lr]}  {task.fields[rate]} steps/s  best {task.fields[best]}"),
                   TimeRemainingColumn()]
        self.bar = Progress(*columns, console=console_err)
        self.task = None
        self.trainer = None

    def __enter__(self):
        self.bar.__enter__()
        self.task = self.bar.add_task("loading data", total=None, loss="-", lr="-", rate="-", best="-")
        return self

    def __exit__(self, *exc):
        return self.bar.__exit__(*exc)

    def loading(self, done: int, total: int) -> None:
        self.bar.update(self.task, completed=done, total=total)

    def start(self, trainer: Trainer) -> None:
        self.trainer = trainer
        console_err.print(_data_line(trainer))
        self.bar.update(self.task, description="training", completed=trainer.step, total=trainer.settings.steps)

    def update(self, progress) -> None:
        best = f"{progress.best_psnr:.2f} dB" if progress.best_psnr is not None else "-"
        self.bar.update(self.task, completed=progress.step, total=progress.total, loss=f"{progress.loss:.4f}",
                        lr=f"{progress.lr:.2e}", rate=f"{progress.steps_per_second:.2f}", best=best)
        if progress.validation is not None:
            line = _validation_line(progress.validation, self.trainer.baselines)
            self.bar.console.print(f"step {progress.step}: {line}")



class _TrainLines:
    """Training progress as lines (a log, a render farm, CI): steps, loss, learning rate and rate
    every `interval` seconds, and each validation as it comes; `json`: one object a line."""

    def __init__(self, interval: float, mode: str, always_final: bool):
        self.mode = mode
        self.lines = None if mode == "none" else LineProgress("train", interval, as_json=mode == "json",
                                                               always_final=always_final, unit="step")
        self.trainer = None

    def __enter__(self):
        return self

    def __exit__(self, failed, *exc):
        if self.lines is not None and failed is None:
            self.lines.close()
        return False

    def loading(self, done: int, total: int) -> None:
        pass

    def start(self, trainer: Trainer) -> None:
        self.trainer = trainer
        if self.mode == "plain":
            console_err.print(_data_line(trainer), markup=False, highlight=False)

    def update(self, progress) -> None:
        if self.lines is not None:
            best = f", best {progress.best_psnr:.2f} dB" if progress.best_psnr is not None else ""
            self.lines.status = f"loss {progress.loss:.4f}, lr {progress.lr:.2e}, {progress.steps_per_second:.2f} steps/s{best}"
            self.lines(progress.step, progress.total)
        if progress.validation is not None:
            if self.mode == "json":
                console_err.print(json.dumps({"input": "train", "step": progress.step, "validation": progress.validation,
                                              "baselines": self.trainer.baselines}), markup=False, highlight=False, soft_wrap=True)
            else:
                console_err.print(f"step {progress.step}: {_validation_line(progress.validation, self.trainer.baselines)}",
                                  markup=False, highlight=False)


COMMANDS = [train_command]
