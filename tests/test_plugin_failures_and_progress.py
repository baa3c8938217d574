"""Hostile plugins and long jobs in logs.

A model plugin is foreign code: a `forward` that raises, `sys.exit()` at import, frames of the wrong
shape, one channel or NaN each end as one `vnn: error:` line naming the plugin file, with nothing
written. A neural model with no weights says so. Progress reaches a stderr that is not a terminal
(a log, a render farm) as plain lines at a steady interval, or JSON lines, or nothing.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import moving_frames, probe_video, write_clip
from test_plugins import readme_plugin_example

from vnn_cli.cli.progress import LineProgress
from vnn_cli.video.images import read_image, write_image


# Each test starts from, and leaves, the registry as it found it (conftest.isolated_registry).
pytestmark = pytest.mark.usefixtures("isolated_registry")


@pytest.fixture
def work(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (24, 40, 3), dtype=np.uint8)
    write_image(tmp_path / "a.png", a)
    # The same picture with noise added: one scene, so no cut check or judge stands in for the model.
    write_image(tmp_path / "b.png", np.clip(a + rng.integers(-25, 26, a.shape), 0, 255).astype(np.uint8))
    return tmp_path


def model_file(folder: Path, name: str, forward: str, before: str = "") -> Path:
    """A plugin file registering the model `name` whose forward body is `forward`."""
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(before) + textwrap.dedent(f'''
        import sys
        import torch
        from vnn_cli import FrameInterpolator, register_model

        @register_model("{name}")
        class Model(FrameInterpolator):
            def forward(self, frame0, frame1, t):
        ''') + textwrap.indent(textwrap.dedent(forward).strip(), " " * 8) + "\n")
    return path


def one_error_line(result) -> str:
    assert result.code == 1, result
    assert "Traceback" not in result.err, result
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("vnn: error: "), result
    return lines[0]


# ---- item 9: plugin failures ----------------------------------------------------------------

def test_forward_that_raises_is_one_line_naming_the_file(vnn, work):
    path = model_file(work, "raiser", "raise RuntimeError('boom: shapes do not match\\nsecond line')")
    result = vnn("interpolate", "a.png", "b.png", "-o", "mid.png", "--plugins", path, "--model", "raiser")
    line = one_error_line(result)
    assert line == f"vnn: error: model 'raiser' ({path}) failed in forward: RuntimeError: boom: shapes do not match"
    assert not (work / "mid.png").exists()


def test_forward_that_raises_on_a_video_leaves_no_output(vnn, work):
    clip = write_clip(work / "clip.mp4", moving_frames(6), 25)
    path = model_file(work, "raiser", "raise ValueError('bad')")
    result = vnn("interpolate", clip, "-o", "out.mp4", "--plugins", path, "--model", "raiser", "--fallback", "never")
    assert "failed in forward: ValueError: bad" in one_error_line(result)
    assert sorted(p.name for p in work.iterdir()) == ["a.png", "b.png", "clip.mp4", "raiser.py"]


def test_sys_exit_in_forward_is_a_plugin_error(vnn, work):
    path = model_file(work, "quitter", "sys.exit(4)")
    result = vnn("interpolate", "a.png", "b.png", "-o", "mid.png", "--plugins", path, "--model", "quitter")
    assert one_error_line(result) == f"vnn: error: model 'quitter' ({path}) failed in forward: SystemExit: 4"


@pytest.mark.parametrize("code, said", [("sys.exit(3)", "it called sys.exit(3)"), ("sys.exit()", "it called sys.exit()"),
                                        ("raise SystemExit('bye')", "it called sys.exit('bye')")])
def test_sys_exit_at_import_is_one_line_naming_the_file(vnn, work, code, said):
    path = work / "exiter.py"
    path.write_text(f"import sys\n{code}\n")
    result = vnn("interpolate", "a.png", "b.png", "-o", "mid.png", "--plugins", path, "--model", "blend")
    assert one_error_line(result) == f"vnn: error: plugin {path} failed to load: {said}"
    assert not (work / "mid.png").exists()


def test_sys_exit_at_import_does_not_end_vnn_models(vnn, work):
    path = work / "exiter.py"
    path.write_text("import sys\nsys.exit(3)\n")
    result = vnn("models", "--plugins", path)
    assert result.code == 0, result
    assert "blend" in result.out and f"failed to load {path}: it called sys.exit(3)" in result.out


def test_constructor_that_raises_is_one_line(vnn, work):
    path = model_file(work, "unbuilt", "return frame0", before="")
    path.write_text(path.read_text() + "\n    def __init__(self, **params):\n        raise KeyError('width')\n")
    result = vnn("interpolate", "a.png", "b.png", "-o", "mid.png", "--plugins", path, "--model", "unbuilt")
    assert one_error_line(result) == f"vnn: error: model 'unbuilt' ({path}) failed in __init__: KeyError: 'width'"


@pytest.mark.parametrize("where, factory, call", [("its call", "pass", "raise RuntimeError('kaboom\\nsecond line')"),
                                                  ("its factory", "raise RuntimeError('kaboom')", "return prediction.sum()")])
def test_loss_plugin_that_raises_is_one_line_naming_the_file(vnn, work, where, factory, call):
    clips = [write_clip(work / f"{name}.mp4", moving_frames(8, seed=seed), 25) for name, seed in (("a", 0), ("b", 1))]
    path = work / "explosive.py"
    path.write_text(textwrap.dedent(f'''
        from vnn_cli import register_loss

        @register_loss("explosive")
        def make():
            {factory}

            def loss(prediction, target):
                {call}
            return loss
        '''))
    result = vnn("train", "--data", clips[0], "--val", clips[1], "--run-dir", work / "run", "--plugins", path,
                 "--loss", "explosive", "-m", "unet", "--model-param", "widths=[8,16]", "--steps", "2", "--batch-size", "2",
                 "--crop", "32", "--val-frames", "5", "--device", "cpu", "--progress", "none")
    assert result.code == 1 and "Traceback" not in result.err, result
    # a failing call comes after step 0 is validated, whose line stays above the error
    assert result.err.splitlines()[-1] == f"vnn: error: loss 'explosive' ({path}) failed in {where}: RuntimeError: kaboom"


@pytest.mark.parametrize("forward", ["raise RuntimeError('kaboom')",  # met first by the validation of step 0
                                     "if self.training:\n    raise RuntimeError('kaboom')\nreturn (frame0 + frame1) / 2"])
def test_model_plugin_that_raises_in_training_is_one_line_naming_the_file(vnn, work, forward):
    clips = [write_clip(work / f"{name}.mp4", moving_frames(8, seed=seed), 25) for name, seed in (("a", 0), ("b", 1))]
    path = model_file(work, "trainee", forward, before="import torch.nn\n")
    path.write_text(path.read_text() + "\n    def __init__(self, **params):\n        super().__init__(**params)\n"
                    "        self.gain = torch.nn.Parameter(torch.ones(1))\n")
    result = vnn("train", "--data", clips[0], "--val", clips[1], "--run-dir", work / "run", "--plugins", path,
                 "-m", "trainee", "--steps", "2", "--batch-size", "2", "--crop", "32", "--val-frames", "5",
                 "--device", "cpu", "--progress", "none")
    assert result.code == 1 and "Traceback" not in result.err, result
    assert result.err.splitlines()[-1] == f"vnn: error: model 'trainee' ({path}) failed in forward: RuntimeError: kaboom"


BAD_OUTPUTS = {
    "one channel": ("return frame0[:, :1]", "returned 1×1×24×40 for frames of 1×3×24×40"),
    "wrong size": ("return frame0[:, :, :-2]", "returned 1×3×22×40 for frames of 1×3×24×40"),
    "nan": ("return frame0 * float('nan')", "returned NaN or infinite values"),
    "inf": ("return frame0 / 0", "returned NaN or infinite values"),
    "integers": ("return (frame0 * 255).to(torch.uint8)", "returned torch.uint8 values"),
    "a tuple": ("return frame0, frame1", "returned a tuple, not a tensor of frames"),
}


@pytest.mark.parametrize("case", sorted(BAD_OUTPUTS))
def test_bad_output_is_refused_before_anything_is_written(vnn, work, case):
    body, message = BAD_OUTPUTS[case]
    path = model_file(work, "broken", body)
    result = vnn("interpolate", "a.png", "b.png", "-o", "mid.png", "--plugins", path, "--model", "broken")
    assert one_error_line(result).startswith(f"vnn: error: model 'broken' ({path}) {message}")
    assert not (work / "mid.png").exists()


def test_nan_output_on_a_video_is_refused(vnn, work):
    clip = write_clip(work / "clip.mp4", moving_frames(6), 25)
    path = model_file(work, "nans", "return frame0 * float('nan')")
    result = vnn("interpolate", clip, "-o", "out.mp4", "--plugins", path, "--model", "nans", "--fallback", "never")
    assert "returned NaN or infinite values" in one_error_line(result)
    assert not (work / "out.mp4").exists()


def test_a_sound_plugin_still_works_through_the_checks(vnn, work):
    path = model_file(work, "fine", "return ((1 - t.view(-1, 1, 1, 1)) * frame0 + t.view(-1, 1, 1, 1) * frame1).double()")
    result = vnn("interpolate", "a.png", "b.png", "-o", "mid.png", "--plugins", path, "--model", "fine")
    assert result.code == 0, result
    a, b = read_image(work / "a.png").astype(float), read_image(work / "b.png").astype(float)
    assert np.abs(read_image(work / "mid.png") - (a + b) / 2).max() <= 1


# ---- item 16: the README's plugin untrained, and the warning ------------------------------------

def test_readme_plugin_untrained_gives_the_blend_and_a_warning(vnn, work):
    (work / "my_model.py").write_text(readme_plugin_example())
    result = vnn("interpolate", "a.png", "b.png", "-o", "mid.png", "--plugins", "my_model.py", "--model", "mynet")
    assert result.code == 0, result
    a, b = read_image(work / "a.png").astype(float), read_image(work / "b.png").astype(float)
    assert np.abs(read_image(work / "mid.png") - (a + b) / 2).max() <= 1  # a sensible frame, not noise or magenta
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1 and re.fullmatch(r"vnn: warning: model 'mynet' runs untrained: it has [\d,]+ parameters and "
                                            r"no weights \(pass --weights FILE, or train it with `vnn train`\)", lines[0]), result


def test_models_without_parameters_or_with_weights_do_not_warn(vnn, work):
    for model in ("blend", "dis"):
        result = vnn("interpolate", "a.png", "b.png", "-o", f"{model}.png", "--model", model)
        assert result.code == 0 and "warning" not in result.err, result


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
