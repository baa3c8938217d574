"""Progress reaches a stderr that is not a terminal (a log, a render farm) as plain lines at a
steady interval, or JSON lines, or nothing; interpolate, bench and train alike follow --progress."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import moving_frames, probe_video, write_clip, write_similar_pair

from vnn_cli.cli.progress import LineProgress


# Each test starts from, and leaves, the registry as it found it (conftest.isolated_registry).
pytestmark = pytest.mark.usefixtures("isolated_registry")


@pytest.fixture(autouse=True)
def two_images(work: Path) -> None:
    write_similar_pair(work, 24, 40)


# ---- item 9: plugin failures ----------------------------------------------------------------


# ---- item 16: the README's plugin untrained, and the warning ------------------------------------


# ---- item 11: progress where stderr is not a terminal ---------------------------------------------

SLOW_PLUGIN = '''
import time
from vnn_cli import FrameInterpolator, register_model
from vnn_cli.core.model_api import as_time_tensor

@register_model("slow-blend")
class SlowBlend(FrameInterpolator):
    def forward(self, frame0, frame1, t):
        time.sleep(0.15)
        t = as_time_tensor(t, frame0)
        return (1 - t) * frame0 + t * frame1
'''

PLAIN_LINE = re.compile(r"clip\.mp4: frame (\d+)/23 \((\d+)%\), (\d+\.\d) fps, elapsed \d:\d\d:\d\d, (eta \d:\d\d:\d\d|done)")


def run_vnn(work: Path, *args, **env) -> subprocess.CompletedProcess:
    """`python -m vnn_cli ARGS` with stdout and stderr pipes, as under a render farm or CI."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("VNN_")}
    environ.update({"XDG_CONFIG_HOME": str(work / "no-config"), **env})
    return subprocess.run([sys.executable, "-m", "vnn_cli", *map(str, args)], cwd=work, env=environ,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def slow_job(work) -> Path:
    (work / "slow.py").write_text(SLOW_PLUGIN)
    write_clip(work / "clip.mp4", moving_frames(12), 25)  # 23 frames out at factor 2
    return work


@pytest.mark.slow  # a real subprocess
def test_plain_progress_lines_at_a_steady_interval_on_a_pipe(slow_job):
    done = run_vnn(slow_job, "interpolate", "clip.mp4", "-o", "out.mp4", "--plugins", "slow.py", "-m", "slow-blend",
                   "--batch-size", "1", "--fallback", "never", "--scene-threshold", "0", VNN_PROGRESS_INTERVAL="0.4")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines and all(PLAIN_LINE.fullmatch(line) for line in lines), done.stderr
    periodic, final = lines[:-1], lines[-1]
    # 11 model calls of 0.15 s or more, two frames after each: a line every 0.4 s or so, not one a frame.
    assert 2 <= len(periodic) <= 12, done.stderr
    frames = [int(PLAIN_LINE.fullmatch(line).group(1)) for line in periodic]
    assert frames == sorted(set(frames)) and all("eta" in line for line in periodic)
    assert final.startswith("clip.mp4: frame 23/23 (100%)") and final.endswith(", done")
    assert probe_video(slow_job / "out.mp4")["frames"] == 23


@pytest.mark.slow  # a real subprocess
def test_short_job_on_a_pipe_stays_quiet_by_default(slow_job):
    done = run_vnn(slow_job, "interpolate", "clip.mp4", "-o", "out.mp4", "-m", "blend")
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_json_progress_one_object_a_line(vnn, work, monkeypatch):
    clip = write_clip(work / "clip.mp4", moving_frames(6), 25)
    monkeypatch.setenv("VNN_PROGRESS_INTERVAL", "0")
    result = vnn("interpolate", clip, "-o", "out.mp4", "-m", "blend", "--progress", "json")
    assert result.code == 0, result
    events = [json.loads(line) for line in result.err.splitlines()]
    assert [e["frames"] for e in events[:-1]] == list(range(1, 12))  # interval 0: every frame
    assert set(events[0]) == {"input", "frames", "total", "fps", "elapsed", "eta", "done"}
    assert all(e["input"] == "clip.mp4" and e["total"] == 11 for e in events)
    assert events[-1]["done"] is True and events[-1]["frames"] == 11 and not any(e["done"] for e in events[:-1])


def test_plain_progress_asked_for_always_ends_with_the_finished_line(vnn, work):
    clip = write_clip(work / "clip.mp4", moving_frames(6), 25)
    result = vnn("slowmo", clip, "-o", "slow.mp4", "-m", "blend", "--progress", "plain")
    assert result.code == 0, result
    [line] = result.err.splitlines()  # shorter than the interval (5 s): only the last line
    assert line.startswith("clip.mp4: frame 11/11 (100%), ") and line.endswith(", done"), result


def test_no_progress(vnn, work, monkeypatch):
    clip = write_clip(work / "clip.mp4", moving_frames(6), 25)
    monkeypatch.setenv("VNN_PROGRESS_INTERVAL", "0")
    monkeypatch.setenv("VNN_PROGRESS", "plain")
    result = vnn("interpolate", clip, "-o", "out.mp4", "-m", "blend", "--progress", "none")
    assert result.code == 0 and result.err == "", result


def test_progress_settings_are_validated(vnn, work, monkeypatch):
    monkeypatch.setenv("VNN_PROGRESS", "fancy")
    result = vnn("interpolate", "a.png", "b.png", "-o", "mid.png", "-m", "blend")
    assert result.code == 2 and "invalid setting progress = 'fancy' (from environment)" in result.err, result


def test_line_progress_follows_the_clock_not_the_frames():
    """A frame every 0.1 s for 10 s with a 1 s interval: ten lines, then the finished one."""
    now = [0.0]
    out: list[str] = []

    class Sink:
        write = out.append

        def flush(self):
            pass

    lines = LineProgress("job", 1.0, stream=Sink(), clock=lambda: now[0])
    for frame in range(1, 101):
        now[0] = frame / 10
        lines(frame, 100)
    lines.close()
    assert len(out) == 11
    assert out[0] == "job: frame 10/100 (10%), 10.0 fps, elapsed 0:00:01, eta 0:00:09\n"
    assert out[-1] == "job: frame 100/100 (100%), 10.0 fps, elapsed 0:00:10, done\n"


def test_bench_progress_follows_the_flag_in_steps(vnn, work, monkeypatch):
    clip = write_clip(work / "clip.mp4", moving_frames(6), 25)
    monkeypatch.setenv("VNN_PROGRESS_INTERVAL", "0")
    result = vnn("bench", clip, "--methods", "dup,blend", "--sizes", "none", "--no-e2e", "--progress", "json")
    assert result.code == 0, result
    events = [json.loads(line) for line in result.err.splitlines() if line.startswith("{")]
    assert events and set(events[0]) == {"input", "steps", "total", "elapsed", "eta", "status", "done"}
    total = events[0]["total"]
    assert [e["steps"] for e in events[:-1]] == list(range(1, total + 1))  # interval 0: every step
    assert "clip.mp4: blend" in {e["status"] for e in events}
    assert events[-1]["done"] is True and events[-1]["steps"] == total
    quiet = vnn("bench", clip, "--methods", "dup", "--sizes", "none", "--no-e2e", "--progress", "none")
    assert quiet.code == 0 and not any(line.startswith(("{", "bench:")) for line in quiet.err.splitlines()), quiet


def test_train_progress_follows_the_flag(vnn, work, monkeypatch):
    clips = [write_clip(work / f"{name}.mp4", moving_frames(8, seed=seed), 25) for name, seed in (("a", 0), ("b", 1))]
    monkeypatch.setenv("VNN_PROGRESS_INTERVAL", "0")
    tiny = ("-m", "unet", "--model-param", "widths=[8,16]", "--model-param", "convs_per_level=1", "--steps", "3",
            "--val-every", "3", "--batch-size", "2", "--crop", "32", "--val-frames", "5", "--device", "cpu", "--no-amp")
    result = vnn("train", "--data", clips[0], "--val", clips[1], "--run-dir", work / "run", *tiny, "--progress", "json")
    assert result.code == 0, result
    events = [json.loads(line) for line in result.err.splitlines() if line.startswith("{")]
    steps = [e for e in events if "steps" in e]
    assert [e["steps"] for e in steps[:-1]][-3:] == [1, 2, 3] and steps[-1]["done"] is True, result.err
    assert all(e["input"] == "train" and e["total"] == 3 and "loss" in e["status"] for e in steps[:-1])
    validations = [e for e in events if "validation" in e]
    assert validations[-1]["step"] == 3 and validations[-1]["validation"]["psnr"] > 0
    assert all(line.startswith("{") for line in result.err.splitlines() if line.strip()), result.err
