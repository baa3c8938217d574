"""Run one job per input, like a render farm: existing outputs skipped, failures collected, the
rest carried on."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

from ..core.errors import VnnError
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
    goes on; an interruption stops it (finished outputs stay, so a rerun resumes)."""
    items = []
    for number, path in enumerate(inputs, 1):
        output = output_for(path)
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
