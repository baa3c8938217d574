"""Memory stays flat over the length of a video: frames stream through, nothing accumulates.

A real `vnn` process converts a short and a ten-times-longer generated clip; the peak resident
memory of the process tree (vnn and its ffmpeg children, sampled from /proc) must not grow with
the number of frames. Keeping every frame of the long clip would add far more than the margin.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from vnn_cli.video.ffmpeg import ffmpeg_exe

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")]


@dataclass
class Peak:
    vnn_mib: float  # the Python process's own high-water mark (exact, from the kernel)
    tree_mib: float  # the largest sum of resident memory of vnn and its ffmpeg children at one time
    seconds: float


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _exec_done(pid: int) -> bool:
    # Between fork and exec a child is a copy of the Python process whose pages are shared, not
    # new: it is not counted until it has become ffmpeg.
    try:
        return "ffmpeg" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return False


def run_measured(args: list[str], cwd: Path, **env: str) -> Peak:
    """Run `python -m vnn_cli ARGS`, sampling the memory of it and its children every 20 ms."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "vnn_cli", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **env})
    own_peak = tree_peak = 0
    while proc.poll() is None:
        own_peak = max(own_peak, _status_kib(proc.pid, "VmHWM"))
        children = sum(_status_kib(pid, "VmRSS") for pid in _children(proc.pid) if _exec_done(pid))
        tree_peak = max(tree_peak, _status_kib(proc.pid, "VmRSS") + children)
        time.sleep(0.02)
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    return Peak(own_peak / 1024, tree_peak / 1024, time.perf_counter() - started)


def generated_clip(path: Path, frames: int, size: str = "320x240") -> Path:
    """ffmpeg's moving test pattern with sound: cheap to make at any length."""
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25",
                    "-f", "lavfi", "-i", "sine=frequency=300", "-frames:v", str(frames), "-shortest",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)],
                   check=True)
    return path


def test_peak_memory_does_not_grow_with_length(tmp_path):
    short = generated_clip(tmp_path / "short.mp4", 40, "480x270")
    long = generated_clip(tmp_path / "long.mp4", 400, "480x270")
    common = ["-m", "blend", "--factor", "2", "--encoder-preset", "ultrafast"]
    # glibc keeps freed frame-sized blocks in its heap by a heuristic that varies the peak by
    # +-30 MiB from run to run (it levels off: 2000 frames peak no higher than 400). A fixed mmap
    # threshold gives each frame buffer its own mapping, so what is measured is what vnn holds.
    env = {"XDG_CONFIG_HOME": str(tmp_path / "no-config"), "MALLOC_MMAP_THRESHOLD_": str(1 << 20)}
    short_peak = run_measured(["interpolate", str(short), *common, "-o", str(tmp_path / "short_out.mp4")], tmp_path, **env)
    long_peak = run_measured(["interpolate", str(long), *common, "-o", str(tmp_path / "long_out.mp4")], tmp_path, **env)
    # The 360 more input frames are 134 MiB as RGB and the 720 more outputs 269 MiB: keeping even
    # a tenth of them would break the margin.
    margin_mib = 24
    assert long_peak.vnn_mib < short_peak.vnn_mib + margin_mib, (short_peak, long_peak)
    assert long_peak.tree_mib < short_peak.tree_mib + margin_mib, (short_peak, long_peak)
    assert long_peak.seconds > short_peak.seconds  # the long clip really was processed
