"""Peak memory of one method, measured where it runs.

- CUDA: `torch.cuda.max_memory_allocated` after a reset, minus what was allocated before: the
  tensors the method itself created (the weights, loaded earlier, are not counted).
- CPU (Linux): the growth of the process's peak resident set, from what is alive (the C heap's
  free pages handed back first, `malloc_trim`). The kernel's high-water mark
  (`VmHWM` in /proc/self/status) is reset to the current size by writing "5" to
  /proc/self/clear_refs; the peak after the method minus the resident size before it is the most
  memory the method added at any moment: torch's buffers, numpy arrays, OpenCV's work space, all
  allocators together. Where that file cannot be written (not Linux, a locked-down /proc), the
  measurement is None rather than a wrong number.
- ffmpeg (minterpolate, the end-to-end rows): the child's own peak resident set, a whole process's
  size rather than a growth, read from its /proc/PID/status (`ChildPeak`). Not from `wait4`: Linux
  carries the high-water mark across exec, so a child started from the bench's large process
  reports the bench's size there.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import threading
from pathlib import Path

import torch

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")
MIB = 1024 * 1024


def _status_kib(key: str, status: Path = _STATUS) -> int | None:
    try:
        for line in status.read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


@functools.cache
def _libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c"))
    except (OSError, TypeError):
        return None


def _release_free_heap() -> None:
    """Hand the C heap's free pages back to the system (glibc's `malloc_trim`; elsewhere nothing),
    so the resident size before a method is what is alive. Otherwise a method that reuses memory
    an earlier one freed (in the bench, the method before it) seems to add nothing."""
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


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
            _release_free_heap()
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


class ChildPeak:
    """A child process's own peak resident set (MiB), watched while it runs:
    `with ChildPeak() as peak: ... peak.watch(pid) ...` then `peak.mib` (None: nothing read).
    `VmHWM` only grows, so the last reading before the child ends is its peak but for the
    growth of its last few milliseconds."""

    def __init__(self, interval: float = 0.01):
        self.interval = interval
        self.mib: float | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, pid: int) -> None:
        """Start reading `pid`'s high-water mark (call once the child has exec'd: `subprocess.Popen`
        returns after that)."""
        status = Path(f"/proc/{pid}/status")

        def read() -> None:
            while True:
                kib = _status_kib("VmHWM", status)
                if kib is not None:
                    self.mib = max(self.mib or 0.0, kib / 1024)
                elif not status.exists():
                    return
                if self._done.wait(self.interval):
                    return

        self._thread = threading.Thread(target=read, daemon=True)
        self._thread.start()

    def __enter__(self) -> "ChildPeak":
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()
