"""Peak memory of one method, measured where it runs.

- CUDA: `torch.cuda.max_memory_allocated` after a reset, minus what was allocated before: the
  tensors the method itself created (the weights, loaded earlier, are not counted).
- CPU (Linux): the growth of the process's peak resident set. The kernel's high-water mark
  (`VmHWM` in /proc/self/status) is reset to the current size by writing "5" to
  /proc/self/clear_refs; the peak after the method minus the resident size before it is the most
  memory the method added at any moment: torch's buffers, numpy arrays, OpenCV's work space, all
  allocators together. Where that file cannot be written (not Linux, a locked-down /proc), the
  measurement is None rather than a wrong number.
- ffmpeg (minterpolate): the child's own peak resident set from `wait4` (see `peers.py`), a whole
  process's size rather than a growth.
"""
from __future__ import annotations

import gc
from pathlib import Path

import torch

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")
MIB = 1024 * 1024


def _status_kib(key: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_high_water_mark() -> bool:
    try:
        _CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


class PeakMemory:
    """`with PeakMemory(device) as peak: ...` then `peak.mib`: MiB added at the worst moment, or None."""

    def __init__(self, device: torch.device | str = "cpu"):
        self.device = torch.device(device)
        self.mib: float | None = None
        self._base = 0
        self._valid = False

    def __enter__(self) -> "PeakMemory":
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._base = torch.cuda.memory_allocated(self.device)
            self._valid = True
        elif self.device.type == "cpu":
            rss = _status_kib("VmRSS")
            self._valid = rss is not None and _reset_high_water_mark()
            self._base = (rss or 0) * 1024
        return self

    def __exit__(self, *exc) -> None:
        if not self._valid:
            return
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            peak = torch.cuda.max_memory_allocated(self.device)
        else:
            peak = (_status_kib("VmHWM") or 0) * 1024
        self.mib = max(0, peak - self._base) / MIB
