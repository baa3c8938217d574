"""Shared fixtures: real clips generated with the bundled ffmpeg, and the CLI run in-process."""
from __future__ import annotations

import os
import subprocess
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from vnn_cli.video.ffmpeg import ffmpeg_exe
from vnn_cli.video.writer import VideoWriter

REPO = Path(__file__).resolve().parent.parent


def moving_frames(n: int, width: int = 64, height: int = 48, speed: int = 2, seed: int = 0) -> list[np.ndarray]:
    """A textured background with a bright square moving right by `speed` pixels a frame."""
    rng = np.random.default_rng(seed)
    background = (rng.random((height, width, 3)) * 120 + 40).astype(np.uint8)
    frames = []
    for i in range(n):
        frame = background.copy()
        x = (4 + i * speed) % max(1, width - 12)
        frame[height // 3 : height // 3 + 10, x : x + 10] = (250, 220, 30)
        frames.append(frame)
    return frames


def landscape(seed: int, height: int, width: int) -> np.ndarray:
    """Colour noise summed over scales with the falling spectrum of natural pictures: large shapes
    and fine detail, nothing a flow cannot follow, no file needed."""
    rng = np.random.default_rng(seed)
    out = np.zeros((height, width, 3), np.float32)
    for cell in (64, 32, 16, 8, 4, 2):
        small = rng.standard_normal((max(2, height // cell), max(2, width // cell), 3)).astype(np.float32)
        out += cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC) * cell ** 0.8
    out = (out - out.mean()) / out.std()
    tint = rng.uniform(0.6, 1.4, 3).astype(np.float32)
    return np.clip(128 + 45 * out * tint, 0, 255).astype(np.uint8)


def write_clip(path: Path, frames: list[np.ndarray], fps: Fraction | int = 25, audio: bool = False, crf: int = 10) -> Path:
    """Encode `frames` to `path` (H.264); with `audio`, a 440 Hz tone as long as the video is muxed in."""
    fps = Fraction(fps)
    height, width = frames[0].shape[:2]
    tone = None
    if audio:
        tone = path.with_name(path.stem + "_tone.wav")
        seconds = len(frames) / fps
        subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency=440:duration={float(seconds):.4f}",
                        str(tone)], check=True)
    writer = VideoWriter(path, width, height, fps, crf=crf, preset="ultrafast", audio_from=tone)
    for frame in frames:
        writer.write(frame)
    writer.close()
    if tone is not None:
        tone.unlink()
    return path


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    """12 frames, 64×48, 25 fps, with sound."""
    return write_clip(tmp_path / "clip.mp4", moving_frames(12), 25, audio=True)


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, out={self.out[-500:]!r}, err={self.err[-2000:]!r})"


@pytest.fixture
def vnn(capsys, monkeypatch, tmp_path):
    """Run `vnn ARGS...` in this process; returns exit code, stdout and stderr."""
    from vnn_cli.cli.app import main

    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-user-config"))

    def run(*args: str | Path) -> CliResult:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def probe_video(path: Path) -> dict:
    from vnn_cli.video.probe import probe
    from vnn_cli.video.reader import VideoReader

    info = probe(path)
    frames = sum(1 for _ in VideoReader(path))
    return {"fps": info.fps, "frames": frames, "duration": info.duration, "audio": info.has_audio,
            "size": (info.width, info.height)}


@pytest.fixture
def work(tmp_path: Path, monkeypatch) -> Path:
    """The user's working folder: empty, and the current folder while the test runs."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def write_similar_pair(folder: Path, height: int, width: int, seed: int = 0) -> None:
    """a.png and b.png: one picture and the same with noise added. One scene, so neither the cut
    check nor the judge stands in for the model."""
    from vnn_cli.video.images import write_image

    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    write_image(folder / "a.png", a)
    write_image(folder / "b.png", np.clip(a + rng.integers(-25, 26, a.shape), 0, 255).astype(np.uint8))


def registered_models() -> dict:
    """The models the built-in plugins register, for parametrizing tests at collection."""
    from vnn_cli.core import plugins, registry

    plugins.load_plugins()
    return registry.list_models()


@pytest.fixture(scope="session")
def builtin_plugins() -> None:
    """The built-in plugins (and installed entry points), loaded once for the tests that name models."""
    from vnn_cli.core import plugins

    plugins.load_plugins()


@pytest.fixture
def isolated_registry(monkeypatch):
    """The test starts from, and leaves, the plugin registry as it found it; no VNN_* from the shell."""
    from vnn_cli.core import plugins

    for name in [n for n in os.environ if n.startswith("VNN_")]:
        monkeypatch.delenv(name)
    with plugins.snapshot():
        yield


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> tuple[Path, Path]:
    """A tiny training clip and a validation clip with different motion."""
    folder = tmp_path_factory.mktemp("clips")
    train = write_clip(folder / "train.mp4", moving_frames(10, 64, 48, speed=2, seed=1))
    val = write_clip(folder / "val.mp4", moving_frames(7, 64, 48, speed=3, seed=2))
    return train, val
