"""`vnn train`: train a model plugin, resume a run, export its best checkpoint as weights."""
from __future__ import annotations

from pathlib import Path

import click

from ..render.pipeline import prepare_runtime
from ..train.export import check_export, export_best
from ..train.loop import Trainer
from ..train.run_settings import resumed_settings
from .common import command, model_param_option, pass_params, progress_option, runtime_options, settings_for
from .render import console, console_err, training_progress, validation_line


def _numbers(text: str | None, option: str) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"'{text}' is not a list of whole numbers, e.g. 1,2", param_hint=option) from None


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
    with training_progress() as display:
        trainer = Trainer(section, device, progress=display.update, loading=display.loading)
        if section.resume:
            trainer.resume()
            console_err.print(f"resumed from step {trainer.step} of {section.steps} in {section.run_dir}", highlight=False)
        display.start(trainer)
        result = trainer.run(minutes=section.minutes)
    best = result.best
    if best:
        console.print(f"best: step {best['step']}, {validation_line(best, result.baselines)}")
    console.print(f"{result.run_dir}: {result.steps} steps" + (" (stopped by --minutes; --resume continues)" if result.stopped_early else ""))
    if section.export is not None:
        export_best(section.run_dir, section.export, overwrite=section.overwrite, inputs=_read(section))
        console.print(f"exported the best checkpoint to {section.export}")


def _read(section) -> list[Path]:
    """What training reads, that --export must never replace."""
    return [*section.data, *section.val, *(p for p in (section.weights, section.vgg_weights) if p is not None)]


COMMANDS = [train_command]
