"""Progress as lines, for a stderr that is not a terminal (a log, a render farm, CI), where a bar
cannot redraw itself: one line every `interval` seconds, like ffmpeg's `-stats`, plain for people
or one JSON object per line for machines.
"""
from __future__ import annotations

import json
import sys
import time
from typing import Callable, TextIO


def clock_time(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class LineProgress:
    """A `(done, total)` callback that writes a line when `interval` seconds have passed since the
    last one, and, with `close()`, a last one for the finished job.

    A job shorter than the interval writes nothing unless `always_final`: with progress asked for
    by name the last line always comes, while the default for a log keeps short runs quiet.

    `unit` "frame" counts frames (with their rate); "step" counts a job's steps (`vnn bench`: a
    method on a clip, at a size...), with `status`, the step last started, at the end of the line.
    """

    def __init__(self, description: str, interval: float, as_json: bool = False, always_final: bool = True,
                 stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic, unit: str = "frame"):
        self.description, self.interval, self.as_json, self.always_final = description, interval, as_json, always_final
        self.stream, self.clock, self.unit = stream, clock, unit
        self.status = ""
        self.started = self.last = clock()
        self.done, self.total = 0, None
        self.lines = 0

    def __call__(self, done: int, total: int | None) -> None:
        self.done, self.total = done, total
        now = self.clock()
        if now - self.last >= self.interval:
            self.last = now
            self._write(now, finished=False)

    def close(self) -> None:
        """The finished job's line (not after a failure: then the error is the last line)."""
        if self.lines or self.always_final:
            self._write(self.clock(), finished=True)

    def _write(self, now: float, finished: bool) -> None:
        elapsed = now - self.started
        fps = self.done / elapsed if elapsed > 0 else 0.0
        eta = None
        if self.total is not None and fps > 0:
            eta = max(0.0, (self.total - self.done) / fps)
        if self.unit != "frame":
            line = self._step_line(elapsed, eta, finished)
        elif self.as_json:
            line = json.dumps({"input": self.description, "frames": self.done, "total": self.total,
                               "fps": round(fps, 2), "elapsed": round(elapsed, 2),
                               "eta": None if eta is None else round(eta, 2), "done": finished})
        else:
            count = f"frame {self.done}/{self.total} ({100 * self.done // max(1, self.total)}%)" if self.total else f"frame {self.done}"
            line = f"{self.description}: {count}, {fps:.1f} fps, elapsed {clock_time(elapsed)}"
            if finished:
                line += ", done"
            elif eta is not None:
                line += f", eta {clock_time(eta)}"
        self._emit(line)

    def _step_line(self, elapsed: float, eta: float | None, finished: bool) -> str:
        if self.as_json:
            return json.dumps({"input": self.description, "steps": self.done, "total": self.total,
                               "elapsed": round(elapsed, 2), "eta": None if eta is None else round(eta, 2),
                               "status": self.status, "done": finished})
        count = f"step {self.done}/{self.total} ({100 * self.done // max(1, self.total)}%)" if self.total else f"step {self.done}"
        line = f"{self.description}: {count}, elapsed {clock_time(elapsed)}"
        if finished:
            return line + ", done"
        if eta is not None:
            line += f", eta {clock_time(eta)}"
        return line + (f": {self.status}" if self.status else "")

    def _emit(self, line: str) -> None:
        stream = self.stream or sys.stderr  # looked up now: a test may have replaced sys.stderr
        stream.write(line + "\n")
        stream.flush()
        self.lines += 1
