"""What one job did (a conversion, an extraction): the record a command reports and a batch collects."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path


@dataclass
class JobResult:
    input: Path
    output: Path
    frames_in: int = 0
    frames_out: int = 0
    fps_out: Fraction = Fraction(0)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    cuts: int = 0  # scene cuts found (no frame synthesized across them)
    duplicates: int = 0  # input frames dropped as repeats
    fallbacks: Counter = field(default_factory=Counter)  # reason -> output frames that fell back to a blend
    synthesized: int = 0  # output frames the model made (not the copies at cuts, nor the blends it fell back to)
    resumed: int = 0  # output frames an interrupted earlier run had written, not redone
    variable_rate: bool = False  # followed the input's own timestamps
    compare: Path | None = None
