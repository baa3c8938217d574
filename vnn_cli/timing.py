"""When each output frame falls: between which two input frames, and at what `t`.

Both timings answer per pair of input frames, so video streams through without knowing its
length in advance: `pair(i)` lists the times in [0, 1) of the outputs between input i and i+1
(0 is input i itself), `tail(n)` how many outputs repeat the last of n inputs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol


class Timing(Protocol):
    def pair(self, left: int) -> list[Fraction]: ...

    def tail(self, n_inputs: int) -> int: ...


@dataclass(frozen=True)
class FactorTiming:
    """`factor - 1` new frames between each pair: N inputs give (N-1)*factor + 1 outputs."""

    factor: int

    def pair(self, left: int) -> list[Fraction]:
        return [Fraction(k, self.factor) for k in range(self.factor)]

    def tail(self, n_inputs: int) -> int:
        return 1


@dataclass(frozen=True)
class RateTiming:
    """Output frame k shows time k/target; input frame i covers [i/source, (i+1)/source).

    The output lasts as long as the input, to within one output frame.
    """

    source_fps: Fraction
    target_fps: Fraction

    def _first_output(self, input_index: int) -> int:
        return math.ceil(Fraction(input_index) * self.target_fps / self.source_fps)

    def pair(self, left: int) -> list[Fraction]:
        ks = range(self._first_output(left), self._first_output(left + 1))
        return [Fraction(k) * self.source_fps / self.target_fps - left for k in ks]

    def tail(self, n_inputs: int) -> int:
        return self._first_output(n_inputs) - self._first_output(n_inputs - 1)


def output_count(timing: Timing, n_inputs: int) -> int:
    if n_inputs == 0:
        return 0
    return sum(len(timing.pair(i)) for i in range(n_inputs - 1)) + timing.tail(n_inputs)


def parse_rate(text: str | float | int | Fraction) -> Fraction:
    """'60', '59.94', '60000/1001' -> an exact fraction."""
    if isinstance(text, Fraction):
        rate = text
    else:
        try:
            rate = Fraction(str(text).strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"'{text}' is not a frame rate (a number or a fraction such as 60000/1001)") from None
    if rate <= 0:
        raise ValueError(f"frame rate {text} must be positive")
    return rate
