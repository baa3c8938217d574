"""Run one job per input, like a render farm: existing outputs skipped, failures collected, the
rest carried on."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

from ..core.errors import OutputError, VnnError
from ..core.result import JobResult

Status = Literal["done", "skipped", "failed"]


@dataclass
class BatchItem:
    input: Path
    output: Path
    status: Status
    message: str = ""
    result: JobResult | None = None
    seconds: float = 0.0


def run_batch(inputs: list[Path], output_for: Callable[[Path], Path], job: Callable[[Path, Path], JobResult], *,
              overwrite: bool = False, on_start: Callable[[int, int, Path], None] | None = None) -> list[BatchItem]:
    """Each input through `job(input, output)`. A `VnnError` marks that input failed and the batch
    goes on; an interruption stops it (finished outputs stay, so a rerun resumes). An output that
    is its own input (a batch written into the folder it reads) refuses the whole batch first:
    each file would otherwise be "skipped: output exists" and nothing done, or fail one by one."""
    outputs = [output_for(path) for path in inputs]
    for path, output in zip(inputs, outputs):
        if os.path.realpath(output) == os.path.realpath(path):
            raise OutputError(f"output {output} is the input {path}: write the batch to another folder")
    items = []
    for number, (path, output) in enumerate(zip(inputs, outputs), 1):
        if output.exists() and not overwrite:
            items.append(BatchItem(path, output, "skipped", "output exists"))
            continue
        if on_start:
            on_start(number, len(inputs), path)
        started = time.perf_counter()
        try:
            result = job(path, output)
        except VnnError as exc:
            items.append(BatchItem(path, output, "failed", str(exc), seconds=time.perf_counter() - started))
            continue
        items.append(BatchItem(path, output, "done", "", result, time.perf_counter() - started))
    return items
