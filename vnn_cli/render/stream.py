"""The output frames of a stream of input frames, pair by pair of consecutive inputs:
  - duplicates (`dedup`) are dropped and the motion is interpolated between the frames that
    really differ, each at the time it first appeared;
  - a scene cut is never interpolated across: the outputs repeat the nearer frame;
  - the fallback judge decides whether the model can be trusted on the pair; where it cannot,
    the outputs are the blend of the two frames;
  - the remaining pairs are synthesized by the model, several pairs per call; a model that uses
    neighbours also gets the input frames before and after each pair (not across a cut), so the
    stream runs one pair behind the decoder.
Each output frame k sits at its own time (k/target seconds for `--fps`, following the input's
real timestamps when its rate varies), so duration and audio stay in sync.

A range run (`FrameRange`, `--frames A-B`) keeps only the outputs whose times fall in input frames
A to B. It still reads the stream from the first frame and decides every pair as the whole run does
(duplicates, cuts, the judge, the batches), so its frames are the whole run's frames; it only skips
the model on batches that hold none of its outputs, and stops once past the range.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from ..core.errors import InputError
from ..core.model_api import Neighbours
from ..core.result import JobResult
from ..core.timing import Timing
from ..safeguards.dedup import is_duplicate
from ..safeguards.fallback import decide, judge_for, stand_in, within_scene
from ..safeguards.scenes import is_scene_cut
from ..video.timestamps import FrameTimes
from .engine import Interpolator
from .outputs import OutputFrame


@dataclass
class Shown:
    """An input frame and when it is shown, in seconds from the first frame."""

    index: int
    time: Fraction
    frame: np.ndarray


def timed(frames: Iterable[np.ndarray], fps: Fraction, times: FrameTimes | None) -> Iterator[Shown]:
    for index, frame in enumerate(frames):
        if times is not None and index < len(times.times):
            seconds = times.times[index]
        elif times is not None:  # more frames decoded than stamps listed: continue at the last step
            step = times.times[-1] - times.times[-2] if len(times.times) > 1 else 1 / fps
            seconds = times.times[-1] + step * (index - len(times.times) + 1)
        else:
            seconds = Fraction(index) / fps
        yield Shown(index, seconds, frame)


def deduplicated(shown: Iterable[Shown], threshold: float, result: JobResult) -> Iterator[Shown]:
    """Frames that repeat the last kept one are dropped; the kept one keeps its own time."""
    last: Shown | None = None
    for item in shown:
        if last is not None and is_duplicate(last.frame, item.frame, threshold):
            result.duplicates += 1
            continue
        last = item
        yield item


@dataclass(frozen=True)
class FrameRange:
    """Input frames `first` to `last` (inclusive, numbered from 0 as decoded, duplicates counted) of
    a whole run: a range run writes the outputs shown from the time of frame `first` until the time
    of frame `last + 1`, so the in-betweens of the pair (last, last + 1) are this range's. A `last`
    past the clip's end reaches the end."""

    first: int
    last: int

    def __str__(self) -> str:
        return f"{self.first}-{self.last}"


class Window:
    """The times a `FrameRange` covers, learnt as the input frames pass (`watch`, before duplicates
    are dropped, since a range counts every decoded frame). A bound not seen yet lies beyond every
    output asked about: an output is always made after the input frame that follows it is read."""

    def __init__(self, frames: FrameRange):
        self.frames = frames
        self.start: Fraction | None = None  # the time of input frame `first`, once read
        self.end: Fraction | None = None  # the time of input frame `last + 1`, once read
        self.last_index = -1  # the last input frame read

    def watch(self, shown: Iterable[Shown]) -> Iterator[Shown]:
        for item in shown:
            self.last_index = item.index
            if item.index == self.frames.first:
                self.start = item.time
            if item.index == self.frames.last + 1:
                self.end = item.time
            yield item

    def where(self, time: Fraction) -> int:
        """-1 before the range, 0 in it, 1 after it."""
        if self.start is None or time < self.start:
            return -1
        return 1 if self.end is not None and time >= self.end else 0

    def overlaps(self, start: Fraction, end: Fraction) -> bool:
        """Whether [start, end) (a pair's outputs) meets the range."""
        return self.start is not None and end > self.start and (self.end is None or start < self.end)


class Outside(OutputFrame):
    """An output of the whole run before the range: counted (a sequence keeps the whole run's
    numbers), neither made nor written."""


@dataclass
class _Pair:
    left: Shown
    right: Shown
    times: list[Fraction]
    first_output: int
    mode: str = "model"  # model | cut | fallback | skip
    reason: str | None = None
    previous: "_Pair | None" = None  # the pair before it, and the one after (once decoded)
    next: "_Pair | None" = None
    cut: bool | None = None  # across a scene cut (None: not looked at yet)


class Synthesis:
    """Decides each pair's fate and yields the outputs in order, batching the model's pairs.
    Counts cuts and fallbacks in `result`; the first `skip` outputs (an earlier run wrote them)
    are yielded without a frame."""

    def __init__(self, interpolator: Interpolator, timing: Timing, scene_threshold: float, fallback: str,
                 result: JobResult, skip: int = 0, window: Window | None = None):
        self.interpolator, self.timing, self.result = interpolator, timing, result
        self.scene_threshold, self.skip = scene_threshold, skip
        self.judge = judge_for(interpolator, fallback)
        self.window = window  # a range run's: the outputs outside it are not made (see the module's text)

    def _in_window(self, pair: _Pair) -> bool:
        return self.window is None or self.window.overlaps(pair.left.time, pair.right.time)

    def _classify(self, pair: _Pair) -> None:
        synthesized = [t for t in pair.times if t > 0]
        if pair.first_output + len(pair.times) <= self.skip:
            pair.mode = "skip"
        elif not synthesized:
            pair.mode = "model"
        else:
            left, right = pair.left.frame, pair.right.frame
            pair.mode, pair.reason = decide(left, right, self.scene_threshold, self.judge,
                                            lambda: self.interpolator.confidence(left, right))
            pair.cut = pair.mode == "cut"
            if not self._in_window(pair):  # decided as in the whole run, counted where its outputs are
                return
            if pair.mode == "cut":
                self.result.cuts += 1
            elif pair.mode == "fallback":
                self.result.fallbacks[pair.reason] += len(synthesized)

    def _cut(self, pair: _Pair | None) -> bool | None:
        """Whether `pair` spans a scene cut, looked at once per pair (None: no such pair)."""
        if pair is None:
            return None
        if pair.cut is None:
            pair.cut = is_scene_cut(pair.left.frame, pair.right.frame, self.scene_threshold)
        return pair.cut

    def _neighbours(self, pair: _Pair) -> Neighbours | None:
        """The input frames around the pair, at their times in the pair's own interval."""
        if not self.interpolator.uses_neighbours:
            return None
        span = pair.right.time - pair.left.time
        before = pair.previous.left if pair.previous else None
        after = pair.next.right if pair.next else None
        around = Neighbours(None if before is None else before.frame, None if after is None else after.frame,
                            float((before.time - pair.left.time) / span) if before else -1.0,
                            float((after.time - pair.left.time) / span) if after else 2.0)
        return within_scene(around, pair.left.frame, pair.right.frame, self.scene_threshold,
                            (self._cut(pair.previous), self._cut(pair.next)))

    def _emit(self, pairs: list[_Pair]) -> Iterator[tuple[Fraction, OutputFrame]]:
        """Each output with its time on the input's clock. A batch is synthesized whole or not at
        all: a range run runs the model on exactly the whole run's batches, so that no model's
        results can depend on which pairs share a call."""
        wanted = any(self._in_window(p) for p in pairs)
        model_pairs = [p for p in pairs if wanted and p.mode == "model" and any(t > 0 for t in p.times)]
        made = self.interpolator.synthesize(
            [(p.left.frame, p.right.frame, [float(t) for t in p.times if t > 0], self._neighbours(p))
             for p in model_pairs])
        for pair in pairs:  # done with the frames around it: no chain of old frames is kept
            pair.previous = pair.next = None
        synthesized = {id(p): iter(frames) for p, frames in zip(model_pairs, made)}
        for pair in pairs:
            left, right = pair.left.frame, pair.right.frame
            span = pair.right.time - pair.left.time
            frames = synthesized.get(id(pair))
            for offset, t in enumerate(pair.times):
                model_frame = next(frames) if frames is not None and t > 0 else None
                at = pair.left.time + t * span
                if pair.first_output + offset < self.skip or (self.window is not None and self.window.where(at) != 0):
                    yield at, OutputFrame(None, left)
                elif t == 0:
                    yield at, OutputFrame(left, left)
                elif pair.mode in ("cut", "fallback"):
                    yield at, OutputFrame(stand_in(pair.mode, left, right, t), left)
                else:
                    self.result.synthesized += 1
                    yield at, OutputFrame(model_frame, left)

    def outputs(self, shown: Iterable[Shown], clip_end: Callable[[Shown], Fraction]) -> Iterator[OutputFrame]:
        """Every output in order; in a range run, `Outside` for those before the range, and none
        from the first one after it."""
        for at, output in self._timed_outputs(shown, clip_end):
            place = 0 if self.window is None else self.window.where(at)
            if place < 0:
                yield Outside(None, output.held)
            elif place > 0:
                return  # past the range: nothing more is read or made
            else:
                yield output
        if self.window is not None and self.window.start is None:
            raise InputError(f"--frames {self.window.frames}: the input has {self.window.last_index + 1} frames "
                             f"(0 to {self.window.last_index})")

    def _timed_outputs(self, shown: Iterable[Shown], clip_end: Callable[[Shown], Fraction]) -> Iterator[tuple[Fraction, OutputFrame]]:
        pending: list[_Pair] = []
        queued = 0
        next_output = 0
        previous: Shown | None = None
        last_pair: _Pair | None = None
        # The newest pair waits for the next frame (its neighbour after) before it is synthesized.
        lookahead = 1 if self.interpolator.uses_neighbours else 0
        for item in shown:
            if previous is not None:
                pair = _Pair(previous, item, self.timing.between(previous.time, item.time), next_output,
                             previous=last_pair)
                if last_pair is not None:
                    last_pair.next = pair
                last_pair = pair
                next_output += len(pair.times)
                self._classify(pair)
                pending.append(pair)
                if pair.mode == "model":
                    queued += sum(1 for t in pair.times if t > 0)
                gather = self.interpolator.pairs_per_call + lookahead
                if queued >= gather or len(pending) >= gather:
                    ready, pending = pending[:len(pending) - lookahead], pending[len(pending) - lookahead:]
                    yield from self._emit(ready)
                    queued = sum(sum(1 for t in p.times if t > 0) for p in pending if p.mode == "model")
            previous = item
        if previous is None:
            raise InputError("no frames: the input is empty")
        if previous.index == 0 and self.result.duplicates == 0:
            raise InputError("only one frame: interpolation needs at least two")
        yield from self._emit(pending)
        for offset, at in enumerate(self.timing.tail(previous.time, clip_end(previous))):
            yield at, OutputFrame(None if next_output + offset < self.skip else previous.frame, previous.frame)


def stream(frames: Iterable[np.ndarray], interpolator: Interpolator, timing: Timing,
           on_input: Callable[[int], None] | None = None) -> Iterator[np.ndarray]:
    """The output frames, in order, for constant-rate `frames` under `timing` (no cut detection,
    no fallback: the model on every pair). Needs at least two input frames."""

    def counted() -> Iterator[Shown]:
        for item in timed(frames, Fraction(1), None):
            if on_input:
                on_input(item.index + 1)
            yield item

    plain = Synthesis(interpolator, timing, scene_threshold=0, fallback="never", result=JobResult(Path(), Path()))
    for output in plain.outputs(counted(), lambda last: last.time + 1):
        yield output.frame
