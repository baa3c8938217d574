"""The video grades its own synthesizers: every input frame can be predicted from the input frames
around it, and how well each way of synthesizing does that is evidence for the real in-betweens
nearby. A pair (frame 0, frame 1) with the frames before and after it (its `Neighbours`, never
across a scene cut) has two such checks: frame 0 predicted from the frame before and frame 1, and
frame 1 from frame 0 and the frame after. Each option (the fusion's blend, DIS's candidate alone,
RIFE's alone) is scored on them, and the pair is made the way the evidence says.

The evidence comes at twice the spacing of the real in-betweens, so motion is twice as large
there; it is computed on the frames at a quarter of their size (`GRADE_SCALE`), where that motion
is half the real in-betweens' in pixels, and a check costs a sixteenth of a full pair. Half size
(the motion back to the real in-betweens' size) made the same choices on seven of the eight
tuning clips and a worse one on the eighth (bikes, 0.33 dB), at four times the cost: a 720p pair
of the default took 1.12 s with it, 0.96 s at quarter size, 0.90 s with no grading
(docs/experiments/self_grading.md). Consecutive pairs share one check (frame 1's is the next
pair's frame 0's), so a video pays for one check per pair.

Only decisive evidence changes anything: an option replaces the blend where, on the pair's checks,
its error is at least `MARGIN_DB` below the blend's. On the tuning clips the blend is rarely beaten
by a whole candidate (the per-frame oracle of the three is +0.24 dB over it); the margin was the
smallest whose switching cost no tuning clip more than 0.1 dB (docs/experiments/self_grading.md).
The grading is for footage where one candidate fails wholesale: a brightness change DIS cannot
follow, a texture RIFE smears.

A pair with no neighbour evenly spaced around it (a shot of two frames, a pair between dropped
duplicates) has nothing to grade it by and keeps the blend; the job's notes count such pairs.
"""
from __future__ import annotations

import math
from collections import Counter, OrderedDict
from typing import Callable

import torch
import torch.nn.functional as F

from ..core.model_api import Neighbours
from .dis_flow import content_key
from .pooling import block_mean

GRADE_SCALE = 0.25  # the checks run on the frames this much reduced (see the module's docstring)
MARGIN_DB = 2.0  # how much lower an option's error must be than the blend's to replace it
OPTIONS = ("blend", "dis", "rife")

# The options' predictions of a middle frame from the two around it: name -> N×3×H×W frame.
Predict = Callable[[torch.Tensor, torch.Tensor], dict[str, torch.Tensor]]


class Grader:
    """Chooses, pair by pair, how to synthesize it, from the checks around it. `predict` makes the
    options' frames (at the reduced size it is given). `counts`: how often each option was chosen
    ('ungraded': no check was possible)."""

    def __init__(self, predict: Predict, scale: float = GRADE_SCALE, margin_db: float = MARGIN_DB,
                 remember: int = 4):
        self.predict = predict
        self.scale = scale
        self.margin_db = margin_db
        self.remember = remember
        self.counts: Counter[str] = Counter()
        self._checks: OrderedDict[tuple, dict[str, float]] = OrderedDict()

    def _reduced(self, frame: torch.Tensor) -> torch.Tensor:
        if self.scale == 1:
            return frame
        factor = round(1 / self.scale)
        if factor == 1 / self.scale and not frame.shape[-2] % factor and not frame.shape[-1] % factor:
            return block_mean(frame, factor)  # the area resize's result, faster (vnn_cli/nn/pooling.py)
        return F.interpolate(frame, scale_factor=self.scale, mode="area")

    def check(self, before: torch.Tensor, middle: torch.Tensor, after: torch.Tensor) -> dict[str, float]:
        """Each option's mean squared error predicting `middle` from `before` and `after`
        (remembered: the next pair asks for the same check)."""
        small = [self._reduced(x.float()) for x in (before, middle, after)]
        key = tuple(content_key(x.detach().cpu().numpy()) for x in small)
        if key in self._checks:
            self._checks.move_to_end(key)
            return self._checks[key]
        made = self.predict(small[0], small[2])
        errors = {name: float(F.mse_loss(frame.clamp(0, 1), small[1])) for name, frame in made.items()}
        self._checks[key] = errors
        while len(self._checks) > self.remember:
            self._checks.popitem(last=False)
        return errors

    def choose(self, frame0: torch.Tensor, frame1: torch.Tensor, neighbours: Neighbours | None) -> str:
        """'blend', 'dis' or 'rife' for the pair (one pair: 1×3×H×W frames)."""
        checks = []
        if neighbours is not None and frame0.shape[0] == 1:
            if neighbours.before is not None and neighbours.before_at == -1:
                checks.append(self.check(neighbours.before, frame0, frame1))
            if neighbours.after is not None and neighbours.after_at == 2:
                checks.append(self.check(frame0, frame1, neighbours.after))
        if not checks:
            self.counts["ungraded"] += 1
            return "blend"
        errors = {name: sum(c[name] for c in checks) for name in OPTIONS}
        best = min(OPTIONS[1:], key=errors.get)
        gain_db = 10 * math.log10((errors["blend"] + 1e-12) / (errors[best] + 1e-12))
        choice = best if gain_db >= self.margin_db else "blend"
        self.counts[choice] += 1
        return choice

    def summary(self) -> list[str]:
        """One line for the job's notes: how the pairs were made since the last summary."""
        counts, self.counts = self.counts, Counter()
        graded = {name: counts[name] for name in OPTIONS if counts[name]}
        if not graded and not counts["ungraded"]:
            return []
        made = ", ".join(f"{name} {count}" for name, count in graded.items()) or "none graded"
        line = f"self-grading: {made}"
        if counts["ungraded"]:
            line += f"; {counts['ungraded']} pair(s) with no frame around them to grade by kept the blend"
        return [line]
