"""Hostile plugins: a `forward` that raises, `sys.exit()` at import, frames of the wrong shape, one
channel or NaN, a loss that raises in training, each end as one `vnn: error:` line naming the
plugin file, with nothing written. A neural model with no weights says so."""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import moving_frames, write_clip, write_similar_pair
from test_plugins import readme_plugin_example

from vnn_cli.video.images import read_image


# Each test starts from, and leaves, the registry as it found it (conftest.isolated_registry).
pytestmark = pytest.mark.usefixtures("isolated_registry")


@pytest.fixture(autouse=True)
def two_images(work: Path) -> None:
    write_similar_pair(work, 24, 40)


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
