"""Everything the terminal shows: progress bars, tables, one-line messages (rich)."""
from __future__ import annotations

import contextlib
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

console = Console()
console_err = Console(stderr=True)


class RateColumn(ProgressColumn):
    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} fps" if speed else "- fps", style="progress.data.speed")


@contextlib.contextmanager
def frame_progress(description: str) -> Iterator:
    """A callback `(done, total)` that drives a bar with frames per second and the time left."""
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(), TimeRemainingColumn()]
    # Off when stderr is not a terminal: a log or a pipe gets the result lines, and an error stays
    # the only line on stderr.
    with Progress(*columns, console=console_err, transient=False, disable=not console_err.is_terminal) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        yield update


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
