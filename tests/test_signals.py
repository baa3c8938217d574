"""SIGINT and SIGTERM sent to real `vnn` processes in the middle of their work.

The process must stop within a few seconds with 130 (SIGINT) or 143 (SIGTERM), leave no partial
output, no temporary file and no ffmpeg child behind, and leave the input untouched; a batch run
again does the inputs not yet done.
"""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import moving_frames, probe_video, write_clip
from vnn_cli.core.atomic import TEMP_MARK
from vnn_cli.video.images import read_image

pytestmark = pytest.mark.slow  # real vnn processes and real signals

# Typically about a second; the bound leaves room for a loaded 2-core CI runner.
STOP_WITHIN_S = 10.0

# A model that takes its time and says how far it got, so the signal lands mid-stream.
SLOW_PLUGIN = '''
import os, time
from pathlib import Path
from vnn_cli import FrameInterpolator, register_model
from vnn_cli.core.model_api import as_time_tensor

@register_model("slow-blend")
class SlowBlend(FrameInterpolator):
    calls = 0

    def forward(self, frame0, frame1, t):
        SlowBlend.calls += 1
        if SlowBlend.calls == 3:
            Path(os.environ["TEST_SLOW_MARKER"]).touch()
        time.sleep(float(os.environ.get("TEST_SLOW_DELAY", "0.1")))
        t = as_time_tensor(t, frame0)
        return (1 - t) * frame0 + t * frame1
'''


def _restore_default_sigint() -> None:
    # A shell or CI runner that starts jobs in the background ignores SIGINT in them, and Python
    # then keeps ignoring it; Ctrl-C in a terminal always arrives, so test that case.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): "folder" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))}


def ffmpeg_children_of(folder: Path) -> list[str]:
    """Command lines of live ffmpeg processes that touch `folder`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace").replace("\0", " ")
            state = next((line for line in (proc / "status").read_text().splitlines() if line.startswith("State:")), "")
        except OSError:
            continue
        if "ffmpeg" in cmdline and str(folder) in cmdline and "zombie" not in state:
            found.append(cmdline)
    return found


class Run:
    """`python -m vnn_cli ARGS` in `work`, with the slow plugin available."""

    def __init__(self, work: Path, *args: str | Path, delay: float = 0.1):
        self.work = work
        self.marker = work / "reached-frame-3"
        self.marker.unlink(missing_ok=True)
        env = {**os.environ, "TEST_SLOW_MARKER": str(self.marker), "TEST_SLOW_DELAY": str(delay),
               "XDG_CONFIG_HOME": str(work / "no-config"), "COLUMNS": "200"}
        self.proc = subprocess.Popen([sys.executable, "-m", "vnn_cli", *map(str, args)], cwd=work, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     preexec_fn=_restore_default_sigint)

    def wait_for(self, condition, what: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                pytest.fail(f"vnn ended ({self.proc.returncode}) before {what}: {err[-2000:]}")
            if time.monotonic() > deadline:
                self.proc.kill()
                pytest.fail(f"timed out waiting for {what}")
            time.sleep(0.02)

    def interrupt(self, signum: int) -> tuple[int, str, float]:
        sent = time.monotonic()
        self.proc.send_signal(signum)
        try:
            out, err = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            pytest.fail(f"vnn did not stop after {signum}: {err[-2000:]}")
        return self.proc.returncode, err, time.monotonic() - sent

    def finish(self, timeout: float = 120) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err


PARTIAL_MARK = ".vnn-partial"  # an image sequence's resumable work folder


def temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if TEMP_MARK in p.name or PARTIAL_MARK in p.name]


@pytest.fixture(autouse=True)
def slow_plugin(work: Path) -> None:
    (work / "slow.py").write_text(SLOW_PLUGIN)


@pytest.fixture
def long_clip(work: Path) -> Path:
    return write_clip(work / "clip.mp4", moving_frames(30), 25, audio=True)


def assert_stopped_cleanly(code: int, err: str, seconds: float, expected: int, work: Path, before: dict,
                           resumable: Path | None = None) -> None:
    assert code == expected, err
    assert seconds < STOP_WITHIN_S, f"took {seconds:.1f} s to stop"
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("vnn: ") and "interrupted" in lines[0], err
    assert "Traceback" not in err
    stray = [p for p in temporaries(work) if resumable is None or not (p == resumable or resumable in p.parents)]
    assert not stray, stray
    after = {k: v for k, v in snapshot(work).items() if resumable is None or not k.startswith(resumable.name)}
    assert after == before, "partial output left behind or input changed"
    assert not ffmpeg_children_of(work), "an ffmpeg child outlived vnn"


@pytest.mark.parametrize("signum, expected", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interpolate_to_video_stops_cleanly(work, long_clip, signum, expected):
    out = work / "out.mp4"
    run = Run(work, "interpolate", long_clip, "-m", "slow-blend", "--plugins", "slow.py", "-o", out)
    run.wait_for(lambda: run.marker.exists() and temporaries(work), "the output was half written")
    before = snapshot(work)
    before = {k: v for k, v in before.items() if TEMP_MARK not in k and k != run.marker.name}
    run.marker.unlink()
    code, err, seconds = run.interrupt(signum)
    assert_stopped_cleanly(code, err, seconds, expected, work, before)


def test_slowmo_to_image_folder_stops_and_resumes(work, long_clip):
    # An image sequence is built in a hidden `.NAME.vnn-partial` folder, one whole frame at a time;
    # an interrupted run leaves only that folder (complete frames), and the same command resumes it.
    out = work / "frames"
    partial = work / ".frames.vnn-partial"
    args = ("slowmo", long_clip, "-m", "slow-blend", "--plugins", "slow.py", "-o", f"{out}/", "--factor", "3")
    run = Run(work, *args)
    run.wait_for(lambda: run.marker.exists() and len(list(partial.glob("*.png"))) >= 2, "frames were half written")
    run.marker.unlink()
    before = {k: v for k, v in snapshot(work).items() if not k.startswith(partial.name)}
    code, err, seconds = run.interrupt(signal.SIGTERM)
    assert_stopped_cleanly(code, err, seconds, 143, work, before, resumable=partial)
    kept = sorted(partial.glob("*.png"))
    for frame in kept:
        assert read_image(frame).shape == (48, 64, 3)  # each kept frame is whole

    code, stdout, err = Run(work, *args, delay=0).finish()
    assert code == 0, err
    assert len(list(out.iterdir())) == (30 - 1) * 3 + 1
    assert not partial.exists() and not temporaries(work)


def test_batch_stops_and_resumes(work):
    inputs = work / "videos"
    inputs.mkdir()
    for name, seed in (("a", 1), ("b", 2), ("c", 3)):
        write_clip(inputs / f"{name}.mp4", moving_frames(12, seed=seed), 25)
    out = work / "out"
    args = ("interpolate", inputs, "-m", "slow-blend", "--plugins", "slow.py", "-o", out)
    run = Run(work, *args)
    run.wait_for(lambda: (out / "a.mp4").exists() and temporaries(out), "the second video was under way")
    done_first = (out / "a.mp4").read_bytes()
    code, err, seconds = run.interrupt(signal.SIGTERM)
    assert code == 143, err
    assert seconds < STOP_WITHIN_S, f"took {seconds:.1f} s to stop"
    assert sorted(p.name for p in out.iterdir()) == ["a.mp4"], "the interrupted video or a later one was left"
    assert not temporaries(work) and not ffmpeg_children_of(work)

    rerun = Run(work, *args, delay=0)
    code, stdout, err = rerun.finish()
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["a.mp4", "b.mp4", "c.mp4"]
    assert (out / "a.mp4").read_bytes() == done_first, "a finished output was redone"
    assert "skipped" in stdout
    for name in ("b", "c"):
        assert probe_video(out / f"{name}.mp4")["frames"] == 23


def test_extract_stops_cleanly(work):
    # No model to slow it down: a bigger clip, and the signal as soon as frames start to land.
    clip = write_clip(work / "big.mp4", moving_frames(150, width=320, height=240, speed=3), 25)
    out = work / "frames"
    run = Run(work, "extract", clip, "-o", f"{out}/")
    run.wait_for(lambda: any(p.is_dir() and any(p.iterdir()) for p in temporaries(work)), "frames were being written",
                 timeout=60)
    before = {k: v for k, v in snapshot(work).items() if TEMP_MARK not in k}
    code, err, seconds = run.interrupt(signal.SIGINT)
    if code == 0:
        pytest.skip("extract finished before the signal arrived on this machine")
    assert_stopped_cleanly(code, err, seconds, 130, work, before)


def test_train_saves_a_checkpoint_on_sigterm(work):
    from vnn_cli.train.checkpoint import LATEST, load_checkpoint

    write_clip(work / "train.mp4", moving_frames(16, seed=1), 25)
    write_clip(work / "val.mp4", moving_frames(8, seed=2), 25)
    log = work / "train.err"
    args = ["train", "-m", "unet", "--model-param", "widths=[8,16]", "--model-param", "convs_per_level=1",
            "--data", "train.mp4", "--val", "val.mp4", "--steps", "100000", "--batch-size", "2", "--crop", "32",
            "--checkpoint-every", "100000", "--val-every", "100000", "--val-frames", "5", "--run-dir", "run",
            "--device", "cpu", "--no-amp"]
    with open(log, "w") as err_file:
        proc = subprocess.Popen([sys.executable, "-m", "vnn_cli", *args], cwd=work, stdout=subprocess.DEVNULL,
                                stderr=err_file, env={**os.environ, "XDG_CONFIG_HOME": str(work / "no-config")},
                                preexec_fn=_restore_default_sigint)
        deadline = time.monotonic() + 120
        while "step 0:" not in log.read_text():  # the first validation is done: training is under way
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "training did not start"
            time.sleep(0.05)
        time.sleep(0.5)
        assert not (work / "run" / LATEST).exists()  # no regular checkpoint before 100000 steps
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    stopped_after = time.monotonic() - sent
    assert code == 143, log.read_text()
    assert stopped_after < STOP_WITHIN_S, f"took {stopped_after:.1f} s to save and stop"
    payload = load_checkpoint(work / "run" / LATEST)
    assert payload["model_name"] == "unet" and payload["step"] >= 0  # saved wherever the signal landed
    assert not temporaries(work)


def test_bench_stops_on_sigterm_instead_of_scoring_it_as_a_failure(work, long_clip):
    # The bench records a method that raises as a result and goes on: a signal is not one.
    run = Run(work, "bench", long_clip.name, "--plugins", "slow.py", "--methods", "slow-blend,dis",
              "--sizes", "none", "--no-e2e", "--json", "r.json", delay=0.3)
    run.wait_for(run.marker.exists, "the bench's third model call")
    code, err, seconds = run.interrupt(signal.SIGTERM)
    assert code == 143, err
    assert seconds < STOP_WITHIN_S, f"took {seconds:.1f} s to stop"
    assert "interrupted" in err and "Traceback" not in err
    assert not (work / "r.json").exists()


def test_ctrl_c_stops_the_default_model_at_720p_within_two_seconds(work):
    """The default (`balanced`: DIS and RIFE) on 1280×720 frames: Ctrl-C lands inside the model's
    work, and the process is gone, with nothing left, within 2 s."""
    clip = write_clip(work / "hd.mp4", moving_frames(16, 1280, 720, speed=9), 25)
    out = work / "out.mp4"
    run = Run(work, "interpolate", clip, "-o", out)
    run.wait_for(lambda: temporaries(work), "the output was started")
    before = {k: v for k, v in snapshot(work).items() if TEMP_MARK not in k}
    time.sleep(1.5)  # well inside the synthesis of the first pairs
    assert run.proc.poll() is None, "the run ended before it could be interrupted"
    code, err, seconds = run.interrupt(signal.SIGINT)
    assert code == 130, err
    assert seconds < 2.0, f"took {seconds:.2f} s to stop"
    assert "Traceback" not in err and not temporaries(work)
    assert {k: v for k, v in snapshot(work).items()} == before
    assert not ffmpeg_children_of(work), "an ffmpeg child outlived vnn"
