"""Streaming encode through an ffmpeg pipe, with the audio of another file muxed in."""
from __future__ import annotations

import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..atomic import final_name
from ..errors import OutputError
from .ffmpeg import ffmpeg_exe, last_line, quote_path

_OS_CAUSES = (("No space left on device", "no space left on the device"), ("Disk quota exceeded", "no space left on the device"),
              ("Read-only file system", "read-only file system"), ("Permission denied", "permission denied"),
              ("File too large", "file too large for this file system or limit"))

_YUV_CODECS = {"libx264", "libx265", "libopenh264", "h264_nvenc", "hevc_nvenc"}


class VideoWriter:
    def __init__(self, path: Path, width: int, height: int, fps: Fraction, *, codec: str = "libx264",
                 crf: int | None = 18, preset: str | None = "medium", audio_from: Path | None = None,
                 audio_filter: str | None = None):
        self.path = Path(path)
        self.size = (height, width)
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
               "-framerate", f"{fps.numerator}/{fps.denominator}", "-i", "-"]
        if audio_from is not None:
            cmd += ["-i", quote_path(Path(audio_from)), "-map", "0:v:0", "-map", "1:a:0?", "-c:a", "aac", "-b:a", "192k"]
            if audio_filter:
                cmd += ["-filter:a", audio_filter]
        cmd += ["-c:v", codec]
        if codec in _YUV_CODECS:
            # 4:2:0 needs even sizes; 4:4:4 keeps an odd size exact instead of cropping it.
            cmd += ["-pix_fmt", "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"]
            if crf is not None:
                cmd += ["-crf", str(crf)]
            if preset:
                cmd += ["-preset", preset]
        cmd += ["-movflags", "+faststart"] if self.path.suffix.lower() in (".mp4", ".mov", ".m4v") else []
        cmd += [quote_path(self.path)]
        self._log = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log)

    def _failure(self) -> OutputError:
        self._proc.wait()
        self._log.seek(0)
        log = self._log.read().decode(errors="replace")
        name = final_name(self.path)
        # ffmpeg's last line is often a consequence ("Nothing was written"); the cause is earlier.
        for cause, phrase in _OS_CAUSES:
            if cause in log:
                return OutputError(f"cannot write {name}: {phrase}")
        return OutputError(f"encoding {name.name} failed: {last_line(log)}")

    def write(self, frame: np.ndarray) -> None:
        if frame.shape[:2] != self.size:
            raise OutputError(f"frame of size {frame.shape[1]}x{frame.shape[0]} does not fit the video's {self.size[1]}x{self.size[0]}")
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame[:, :, :3], dtype=np.uint8).data)
        except (BrokenPipeError, OSError):
            raise self._failure() from None

    def close(self) -> None:
        try:
            self._proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        if self._proc.wait() != 0:
            raise self._failure()
        self._log.close()

    def abort(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._log.close()
