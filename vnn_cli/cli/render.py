"""Everything the terminal shows: progress bars, tables, one-line messages (rich)."""
from __future__ import annotations

import contextlib
import json
import warnings
from typing import Iterator

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.table import Table
from rich.text import Text

from ..core.errors import VnnWarning
from .common import state
from .progress import LineProgress

console = Console()
console_err = Console(stderr=True)


class RateColumn(ProgressColumn):
    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} fps" if speed else "- fps", style="progress.data.speed")


def progress_mode(mode: str | None = None, interval: float | None = None) -> tuple[str, float, bool]:
    """(mode, interval, chosen by default) for a progress display: `mode` and `interval` as given,
    else the command's settings; `auto` resolved to a bar on a terminal, plain lines elsewhere (a
    log, a render farm, CI), where a bar would show nothing until the end."""
    asked, every = state["progress"]
    mode, interval = mode or asked, every if interval is None else interval
    if mode != "auto":
        return mode, interval, False
    return ("bar" if console_err.is_terminal else "plain"), interval, True


@contextlib.contextmanager
def frame_progress(description: str, mode: str | None = None, interval: float | None = None) -> Iterator:
    """A callback `(done, total)` that shows how far a job is, as `--progress` asks (default: the
    command's settings): `bar` (frames per second, time left), `plain` or `json` lines every
    `interval` seconds, `none`; `auto` is a bar on a terminal and plain lines elsewhere (a log, a
    render farm, CI), where a bar would show nothing until the end."""
    mode, interval, by_default = progress_mode(mode, interval)
    if mode == "none":
        yield lambda done, total: None
    elif mode == "bar":
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(), TimeRemainingColumn()]
        with Progress(*columns, console=console_err, transient=False) as progress:
            task = progress.add_task(description, total=None)
            yield lambda done, total: progress.update(task, completed=done, total=total)
    else:
        # Chosen by default for a log, a job shorter than one interval adds no line: the result
        # lines say it all, and an error stays the only line on stderr.
        lines = LineProgress(description, interval, as_json=mode == "json", always_final=not by_default)
        yield lines
        lines.close()


@contextlib.contextmanager
def step_progress(description: str) -> Iterator:
    """`(progress, status)` callbacks for a job counted in steps (`vnn bench`), shown as
    `--progress` asks: `progress(done, total)`, `status(text)` (the step last started)."""
    mode, interval, by_default = progress_mode()
    if mode == "none":
        yield (lambda done, total: None), (lambda text: None)
    elif mode == "bar":
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
        with Progress(*columns, console=console_err, transient=True) as bar:
            task = bar.add_task(description, total=None)
            yield (lambda done, total: bar.update(task, completed=done, total=total),
                   lambda text: bar.update(task, description=text))
    else:
        lines = LineProgress(description, interval, as_json=mode == "json", always_final=not by_default, unit="step")

        def status(text: str) -> None:
            lines.status = text

        yield lines, status
        lines.close()


@contextlib.contextmanager
def training_progress() -> Iterator:
    """The display of `vnn train`, as `--progress` asks: a bar with loss, learning rate, steps/s and
    time left (`bar`), else a line every interval (`plain`, or one JSON object a line with `json`),
    or nothing (`none`); a line for each validation in every mode. It is called as
    `loading(done, total)` while the data loads, `start(trainer)`, then `update(progress)` each step."""
    mode, interval, by_default = progress_mode()
    if mode == "bar":
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("loss {task.fields[loss]}  lr {task.fields[lr]}  {task.fields[rate]} steps/s  best {task.fields[best]}"),
                   TimeRemainingColumn()]
        with Progress(*columns, console=console_err) as bar:
            yield _TrainingBar(bar)
    else:
        lines = None if mode == "none" else LineProgress("train", interval, as_json=mode == "json",
                                                         always_final=not by_default, unit="step")
        yield _TrainingLines(lines, mode)
        if lines is not None:
            lines.close()


def validation_line(validation: dict, baselines: dict) -> str:
    parts = [f"val PSNR {validation['psnr']:.2f} dB SSIM {validation['ssim']:.4f}"]
    parts += [f"{name} {b['psnr']:.2f}" for name, b in baselines.items()]
    return " | ".join(parts)


def _data_line(trainer) -> str:
    data = trainer.data
    return (f"training on {len(data.clips)} sources, {len(data.candidates)} examples "
            f"(skipped: {data.skipped['static']} static, {data.skipped['scene cut']} across a cut); "
            f"validating on {', '.join(c.name for c in trainer.val_clips)}")


class _TrainingBar:
    def __init__(self, bar: Progress):
        self.bar = bar
        self.task = bar.add_task("loading data", total=None, loss="-", lr="-", rate="-", best="-")
        self.trainer = None

    def loading(self, done: int, total: int) -> None:
        self.bar.update(self.task, completed=done, total=total)

    def start(self, trainer) -> None:
        self.trainer = trainer
        console_err.print(_data_line(trainer))
        self.bar.update(self.task, description="training", completed=trainer.step, total=trainer.settings.steps)

    def update(self, progress) -> None:
        best = f"{progress.best_psnr:.2f} dB" if progress.best_psnr is not None else "-"
        self.bar.update(self.task, completed=progress.step, total=progress.total, loss=f"{progress.loss:.4f}",
                        lr=f"{progress.lr:.2e}", rate=f"{progress.steps_per_second:.2f}", best=best)
        if progress.validation is not None:
            self.bar.console.print(f"step {progress.step}: {validation_line(progress.validation, self.trainer.baselines)}")


class _TrainingLines:
    """For a log, a render farm, CI: `lines` (None: `none`) gets the steps, with loss, learning rate
    and rate as its status; `json` writes each validation as an object too."""

    def __init__(self, lines: LineProgress | None, mode: str):
        self.lines, self.mode = lines, mode
        self.trainer = None

    def loading(self, done: int, total: int) -> None:
        pass

    def start(self, trainer) -> None:
        self.trainer = trainer
        if self.mode == "plain":
            console_err.print(_data_line(trainer), markup=False, highlight=False)

    def update(self, progress) -> None:
        if self.lines is not None:
            best = f", best {progress.best_psnr:.2f} dB" if progress.best_psnr is not None else ""
            self.lines.status = f"loss {progress.loss:.4f}, lr {progress.lr:.2e}, {progress.steps_per_second:.2f} steps/s{best}"
            self.lines(progress.step, progress.total)
        if progress.validation is None:
            return
        if self.mode == "json":
            console_err.print(json.dumps({"input": "train", "step": progress.step, "validation": progress.validation,
                                          "baselines": self.trainer.baselines}), markup=False, highlight=False, soft_wrap=True)
        else:
            console_err.print(f"step {progress.step}: {validation_line(progress.validation, self.trainer.baselines)}",
                              markup=False, highlight=False)


def show_warnings_as_lines() -> None:
    """The library's `VnnWarning`s as one `vnn: warning:` line each on stderr, every time they occur;
    other warnings as Python shows them."""
    global _python_show_warning
    warnings.simplefilter("always", VnnWarning)
    if warnings.showwarning is not _show_warning:
        _python_show_warning = warnings.showwarning
        warnings.showwarning = _show_warning


_python_show_warning = warnings.showwarning


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    if issubclass(category, VnnWarning):
        console_err.print(f"vnn: warning: {message}", markup=False, highlight=False, soft_wrap=True)
    else:
        _python_show_warning(message, category, filename, lineno, file, line)


def batch_table(items) -> Table:
    table = Table(title="Summary")
    for column in ("input", "output", "status", "frames", "seconds", "message"):
        table.add_column(column)
    styles = {"done": "green", "skipped": "yellow", "failed": "red"}
    for item in items:
        frames = f"{item.result.frames_in} → {item.result.frames_out}" if item.result else ""
        table.add_row(str(item.input), str(item.output), Text(item.status, style=styles[item.status]), frames,
                      f"{item.seconds:.1f}" if item.seconds else "", item.message)
    return table


def report_batch(items) -> None:
    """The summary table on stdout, and on stderr what a script or a log must not miss (a table is
    cut to the width of a pipe): one line per failure with its file and reason, and one line naming
    the outputs kept from an earlier run (made with that run's settings, which may not be these)."""
    console.print(batch_table(items))
    for item in items:
        if item.status == "failed":
            # the reason often starts with the file already: name it once
            reason = item.message.removeprefix(f"{item.input}: ")
            console_err.print(f"vnn: error: {item.input}: {reason}", markup=False, highlight=False, soft_wrap=True)
    kept = [str(item.output) for item in items if item.status == "skipped"]
    if kept:
        them = "them" if len(kept) > 1 else "it"
        console_err.print(f"vnn: warning: kept {len(kept)} existing output{'s' * (len(kept) > 1)} from an earlier run, "
                          f"whatever settings it used: {', '.join(kept)}; --overwrite remakes {them} with these",
                          markup=False, highlight=False, soft_wrap=True)
