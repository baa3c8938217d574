"""What a benchmark run returns: plain data that `run` fills in and `report` and `examples` read.
It lives apart from both so that neither has to import the other."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .peers import Method
from .quality import Score
from .speed import Speed, Throughput


@dataclass
class ClipInfo:
    name: str
    path: str
    width: int | None = None
    height: int | None = None
    frames: int = 0
    scored_frames: int = 0
    static: bool = False
    error: str | None = None
    split: str | None = None  # "tuning" or "validation" (splits.py); None: the run has no split


@dataclass
class Target:
    name: str
    description: str
    value: float | None
    required: float
    met: bool | None  # None: could not be measured in this run
    note: str = ""


@dataclass
class EndToEnd:
    clip: str
    width: int
    height: int
    model: str
    model_fps: float | None  # the model's own frames per second on this clip's frames
    results: list[Throughput]


@dataclass
class Example:
    clip: str
    frame: int  # index of the predicted frame among the clip's kept frames
    methods: list[str]
    image: np.ndarray  # real | each method, side by side

    @property
    def filename(self) -> str:
        return f"{Path(self.clip).stem}_frame{self.frame:03d}.png"


@dataclass
class BenchResult:
    machine: dict
    settings: dict
    clips: list[ClipInfo]
    methods: list[Method]
    skipped: list[str]
    scores: list[Score]
    speeds: list[Speed]
    end_to_end: EndToEnd | None
    targets: list[Target]
    examples: list[Example] = field(default_factory=list)
    e2e_note: str = ""
    end_to_end_sizes: list[EndToEnd] = field(default_factory=list)  # the same clip scaled to `e2e_sizes`

    @property
    def end_to_end_runs(self) -> list[EndToEnd]:
        """Every end-to-end run: at the clip's own size, then at each size it was scaled to."""
        return ([self.end_to_end] if self.end_to_end else []) + self.end_to_end_sizes
