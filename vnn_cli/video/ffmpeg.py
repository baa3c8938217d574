"""The ffmpeg that ships with moviepy's dependencies (imageio-ffmpeg): no system ffmpeg needed.
Commands are argument lists, never shell strings."""
from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Sequence

from moviepy.config import FFMPEG_BINARY

from ..core.errors import VnnError


def ffmpeg_exe() -> str:
    return FFMPEG_BINARY


def last_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def run_ffmpeg(args: Sequence[str], error: type[VnnError], what: str) -> str:
    """Run ffmpeg to completion; on failure raise `error` with ffmpeg's last line. Returns stderr."""
    return run_ffmpeg_measured(args, error, what)[0]


def run_ffmpeg_measured(args: Sequence[str], error: type[VnnError], what: str) -> tuple[str, float | None]:
    """`run_ffmpeg`, also returning the ffmpeg process's own peak resident set in MiB (None where
    the system does not report a child's usage)."""
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([ffmpeg_exe(), "-hide_banner", "-nostdin", *args], stdout=subprocess.DEVNULL, stderr=log)
        peak_mib = None
        try:
            if hasattr(os, "wait4"):  # wait4, not wait: it returns this child's own peak memory
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
                peak_mib = usage.ru_maxrss / 1024  # KiB on Linux
            else:
                proc.wait()
        except BaseException:  # Ctrl-C or SIGTERM: leave no ffmpeg behind
            proc.kill()
            proc.wait()
            raise
        log.seek(0)
        stderr = log.read().decode(errors="replace")
    if proc.returncode != 0:
        raise error(f"{what} failed: {last_line(stderr)}")
    return stderr, peak_mib


def quote_path(path: Path) -> str:
    # ffmpeg treats a leading '-' as an option; an explicit relative path avoids that.
    text = str(path)
    return f"./{text}" if text.startswith("-") else text
