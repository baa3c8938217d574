"""Who takes part in a benchmark: every registered model that can run (it needs no weights, or its
weights are here), and ffmpeg's motion-compensated `minterpolate` as an outside peer.

minterpolate runs through the ffmpeg bundled with the dependencies. It is fed the even frames as
raw RGB through a pipe and its output is read back raw (no lossy encode on either side), at twice
the rate, so output frame 2k is input k and frame 2k+1 is its prediction of the dropped frame.
"""
from __future__ import annotations

import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core import registry
from ..core.errors import PeerError, UnknownNameError
from ..eval.metrics import psnr
from ..core.presets import PRESETS
from ..core.settings import DEFAULT_MODEL
from ..video.ffmpeg import ffmpeg_exe, last_line
from ..nn.weights import default_weights_path
from .memory import ChildPeak

MINTERPOLATE = "minterpolate"
# "MODEL+guard": the model behind the pipeline's safeguards (scene cuts, the fallback judge), as
# `vnn interpolate --fallback auto` runs it; beside the bare model it shows what the guard changes.
GUARD_SUFFIX = "+guard"
MINTERPOLATE_FILTER = "minterpolate=fps={fps}:mi_mode=mci:mc_mode=aobmc:me_mode=bidir:vsbmc=1"
BASELINES = ("dup", "blend")
# The rate the even frames are fed at; only the ratio of output to input rate (2) matters.
_FEED_FPS = 25


@dataclass(frozen=True)
class Method:
    name: str
    kind: str  # "model" (a registered plugin, run in this process), "guarded" (the same behind the guard) or "ffmpeg"
    weights: Path | None = None  # None: the model needs none, or the shipped default applies
    unavailable: str | None = None  # why it cannot run (asked for by name, but no weights)
    model: str | None = None  # the registered model (a preset's name differs from it)
    params: tuple[tuple[str, object], ...] = ()  # model parameters (a preset's)

    @property
    def model_name(self) -> str:
        return self.model or self.name.removesuffix(GUARD_SUFFIX)


def _ordered(names: list[str]) -> list[str]:
    """Baselines first, then minterpolate, then the rest by name: cheap to dear, roughly."""
    rank = {name: i for i, name in enumerate((*BASELINES, MINTERPOLATE))}
    return sorted(names, key=lambda n: (rank.get(n, len(rank)), n))


def select_methods(requested: list[str] | None, weights: dict[str, Path] | None = None) -> tuple[list[Method], list[str]]:
    """The methods to run and, for the default selection, notes on the models left out.

    `requested` None: every registered model that can run, plus minterpolate. A name asked for
    that has no weights is kept with a reason, so the report shows why it has no numbers.
    """
    weights = dict(weights or {})
    known = registry.list_models()
    for name in [*weights, *(requested or [])]:
        if name != MINTERPOLATE and name not in PRESETS and name.removesuffix(GUARD_SUFFIX) not in known:
            raise UnknownNameError("method", name, [*known, *PRESETS, MINTERPOLATE])
    # The presets whose model and settings no plain model name covers (balanced is `fusion` as is).
    extra_presets = [p for p, (m, _) in PRESETS.items() if m in known and p != "balanced" and m == DEFAULT_MODEL]
    default = (_ordered([*known, MINTERPOLATE]) + extra_presets
               + ([DEFAULT_MODEL + GUARD_SUFFIX] if DEFAULT_MODEL in known else []))
    chosen = list(dict.fromkeys(requested)) if requested else default
    methods, skipped = [], []
    for name in chosen:
        if name == MINTERPOLATE:
            methods.append(Method(name, "ffmpeg"))
            continue
        if name in PRESETS:
            model, params = PRESETS[name]
            path = weights.get(model) or default_weights_path(known[model].factory)
            reason = f"no weights at {path}" if path is not None and not Path(path).exists() else None
            methods.append(Method(name, "model", weights.get(model), reason, model, tuple(params.items())))
            continue
        model = name.removesuffix(GUARD_SUFFIX)
        path = weights.get(model) or default_weights_path(known[model].factory)
        missing = path is not None and not Path(path).exists()
        reason = f"no weights at {path}" if missing else None
        if reason and not requested:
            skipped.append(f"{name}: {reason}")
            continue
        kind = "guarded" if name.endswith(GUARD_SUFFIX) else "model"
        methods.append(Method(name, kind, weights.get(model), reason))
    return methods, skipped


def minterpolate_command(width: int, height: int) -> list[str]:
    # minterpolate works in YUV: 4:4:4 keeps the colour whole; the round trip alone scores ~52 dB.
    chain = f"format=yuv444p,{MINTERPOLATE_FILTER.format(fps=2 * _FEED_FPS)},format=rgb24"
    return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-framerate", str(_FEED_FPS), "-i", "-",
            "-vf", chain, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]


@dataclass
class FfmpegRun:
    frames: list[np.ndarray]
    seconds: float  # wall time from start to exit, pipes included
    peak_mib: float | None  # the ffmpeg process's own peak resident set (None: not readable here)


def run_minterpolate(frames: list[np.ndarray]) -> FfmpegRun:
    """All of ffmpeg's output frames for `frames` fed at one rate and asked for at twice that."""
    height, width = frames[0].shape[:2]
    frame_bytes = width * height * 3
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        proc = subprocess.Popen(minterpolate_command(width, height), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=log)

        def feed() -> None:
            try:
                for frame in frames:
                    proc.stdin.write(np.ascontiguousarray(frame[:, :, :3], dtype=np.uint8).data)
            except (BrokenPipeError, OSError):
                pass  # ffmpeg died; its exit status and log say why
            finally:
                try:
                    proc.stdin.close()
                except OSError:
                    pass

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        with ChildPeak() as peak:
            peak.watch(proc.pid)
            try:
                data = proc.stdout.read()
            except BaseException:  # Ctrl-C or SIGTERM: leave no ffmpeg behind
                proc.kill()
                proc.wait()
                raise
            proc.stdout.close()
            feeder.join()
            proc.wait()
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            log.seek(0)
            raise PeerError(f"ffmpeg minterpolate failed: {last_line(log.read().decode(errors='replace'))}")
    count = len(data) // frame_bytes
    out = [np.frombuffer(data, np.uint8, frame_bytes, i * frame_bytes).reshape(height, width, 3) for i in range(count)]
    return FfmpegRun(out, seconds, peak.mib)


def _alignment(outputs: list[np.ndarray], evens: list[np.ndarray]) -> int:
    """Index of the output frame that is the first even frame (0 unless ffmpeg shifts the start)."""
    best, best_score = 0, -1.0
    for offset in range(3):
        pairs = [(outputs[offset + 2 * k], evens[k]) for k in range(min(3, len(evens))) if offset + 2 * k < len(outputs)]
        score = float(np.mean([psnr(a, b) for a, b in pairs])) if pairs else -1.0
        if score > best_score + 1e-9:
            best, best_score = offset, score
    if best_score < 35:
        raise PeerError(f"minterpolate's output does not line up with its input (best match {best_score:.1f} dB)")
    return best


def minterpolate_midframes(evens: list[np.ndarray]) -> FfmpegRun:
    """minterpolate's prediction of the frame between each pair of `evens`.

    ffmpeg stops short of the last pair (the filter looks ahead), so the last frame is fed twice
    more; the extra predictions are not used.
    """
    padded = [*evens, evens[-1], evens[-1]]
    run = run_minterpolate(padded)
    offset = _alignment(run.frames, evens)
    needed = [offset + 2 * k + 1 for k in range(len(evens) - 1)]
    if needed[-1] >= len(run.frames):
        raise PeerError(f"minterpolate returned {len(run.frames)} frames for {len(padded)}: too few to compare")
    run.frames = [run.frames[i] for i in needed]
    return run
