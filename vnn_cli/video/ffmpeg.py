"""The ffmpeg that ships with moviepy's dependencies (imageio-ffmpeg): no system ffmpeg needed.
Commands are argument lists, never shell strings."""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Callable, Sequence

from moviepy.config import FFMPEG_BINARY

from ..core.errors import VnnError


def ffmpeg_exe() -> str:
    return FFMPEG_BINARY


def last_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def run_ffmpeg(args: Sequence[str], error: type[VnnError], what: str,
               started: Callable[[int], None] | None = None) -> str:
    """Run ffmpeg to completion; on failure raise `error` with ffmpeg's last line. Returns stderr.
    `started(pid)` is called once the process runs (the bench watches its memory)."""
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([ffmpeg_exe(), "-hide_banner", "-nostdin", *args], stdout=subprocess.DEVNULL, stderr=log)
        try:
            if started is not None:
                started(proc.pid)
            proc.wait()
        except BaseException:  # Ctrl-C or SIGTERM: leave no ffmpeg behind
            proc.kill()
            proc.wait()
            raise
        log.seek(0)
        stderr = log.read().decode(errors="replace")
    if proc.returncode != 0:
        raise error(f"{what} failed: {last_line(stderr)}")
    return stderr


def quote_path(path: Path) -> str:
    # ffmpeg treats a leading '-' as an option; an explicit relative path avoids that.
    text = str(path)
    return f"./{text}" if text.startswith("-") else text
