"""When each output frame falls: between which two input frames, and at what `t`.

Input frames carry their own times in seconds (from the container's timestamps, so a variable
frame rate is followed as recorded, or i/fps for a constant rate). A timing answers per pair of
consecutive input frames, so video streams through without knowing its length in advance:
`between(start, end)` lists the times in [0, 1) of the outputs between the input shown at `start`
and the next one shown at `end` (0 is the left input itself), and `tail(start, end)` the times (in
seconds) of the outputs that repeat the last input, shown from `start` until the clip ends at `end`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from .errors import SettingsError

# Output frames per input frame, at most: --factor's bound, and --fps's against the source's rate.
# A pair's times are listed, and its in-between frames made in one go, before any is written, so
# an unbounded rate (--fps 1e9) would grow memory without end before the first frame.
MAX_FACTOR = 64


class Timing(Protocol):
    def between(self, start: Fraction, end: Fraction) -> list[Fraction]: ...

    def tail(self, start: Fraction, end: Fraction) -> list[Fraction]: ...


@dataclass(frozen=True)
class FactorTiming:
    """`factor - 1` new frames between each pair at t = k/factor, whatever their timestamps:
    N inputs give (N-1)*factor + 1 outputs."""

    factor: int

    def between(self, start: Fraction, end: Fraction) -> list[Fraction]:
        return [Fraction(k, self.factor) for k in range(self.factor)]

    def tail(self, start: Fraction, end: Fraction) -> list[Fraction]:
        return [Fraction(start)]  # the last input itself


@dataclass(frozen=True)
class RateTiming:
    """Output frame k shows the input timeline at time k/target seconds; an input shown at `start`
    covers [start, next input's start). The output lasts as long as the input, to within one output
    frame, whatever the input's rate (constant or not)."""

    target_fps: Fraction

    def _first_output_at_or_after(self, seconds: Fraction) -> int:
        return math.ceil(Fraction(seconds) * self.target_fps)

    def between(self, start: Fraction, end: Fraction) -> list[Fraction]:
        ks = range(self._first_output_at_or_after(start), self._first_output_at_or_after(end))
        span = Fraction(end) - Fraction(start)
        return [(Fraction(k) / self.target_fps - start) / span for k in ks]

    def tail(self, start: Fraction, end: Fraction) -> list[Fraction]:
        ks = range(self._first_output_at_or_after(start), self._first_output_at_or_after(end))
        return [Fraction(k) / self.target_fps for k in ks]


def constant_rate_times(n_inputs: int, fps: Fraction) -> list[Fraction]:
    return [Fraction(i) / fps for i in range(n_inputs)]


def output_count(timing: Timing, times: list[Fraction], end: Fraction) -> int:
    """Outputs for inputs shown at `times` (seconds, increasing) in a clip that ends at `end`."""
    if not times:
        return 0
    inner = sum(len(timing.between(a, b)) for a, b in zip(times, times[1:]))
    return inner + len(timing.tail(times[-1], end))


def check_rate(rate: Fraction, source_fps: Fraction, asked: str) -> None:
    """Refuse an output `rate` more than MAX_FACTOR times `source_fps`; `asked` names the options."""
    if rate > source_fps * MAX_FACTOR:
        raise SettingsError(f"{asked} makes {float(rate / source_fps):.4g} frames per input frame of this "
                            f"{float(source_fps):.3f} fps source; at most {MAX_FACTOR}, as --factor")


# The rates any setting may name, far beyond real video either way (a frame an hour, a billion a
# second; check_rate then bounds an output rate by its source's): a number such as 1e400 is exact as
# a fraction but overflows every float made of it later, and ffmpeg refuses a rate of 1e-400 only
# when the encoder starts, after the work.
MIN_RATE, MAX_RATE = Fraction(1, 3600), Fraction(10 ** 9)


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
    if not MIN_RATE <= rate <= MAX_RATE:
        raise ValueError(f"frame rate {text} is out of range: from 1/3600 (a frame an hour) to 1e9")
    return rate
