"""Everything the terminal shows: progress bars, tables, one-line messages (rich)."""
from __future__ import annotations

import contextlib
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
