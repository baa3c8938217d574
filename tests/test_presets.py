"""`--preset fast|balanced|best`: each picks its model and settings, the default is balanced (the
fusion), a preset and a model together are refused, and `vnn.toml` can set one."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from conftest import registered_models
from vnn_cli.eval.metrics import psnr
from vnn_cli.core.presets import PRESETS, resolve_model
from vnn_cli.core.errors import SettingsError

from conftest import moving_frames


@pytest.fixture
def pair(tmp_path):
    frames = [cv2.GaussianBlur(f, (0, 0), 2.0) for f in moving_frames(3, 96, 64, speed=4)]
    for name, frame in zip("abc", frames):
        cv2.imwrite(str(tmp_path / f"{name}.png"), frame[:, :, ::-1])
    return tmp_path / "a.png", tmp_path / "c.png", frames[1]


def test_default_is_the_balanced_fusion_and_a_model_name_wins_alone():
    assert resolve_model(None, None, {}) == ("fusion", {})  # the fusion as it comes: RIFE everywhere, self-graded
    defaults = registered_models()["fusion"].factory.Params()
    assert (defaults.rife, defaults.grade) == ("always", True)
    assert resolve_model(None, "best", {"judge_share": 0.1}) == ("fusion", {"rife": "always", "ensemble": "rife-4.25", "judge_share": 0.1})
    assert resolve_model("dis", None, {}) == ("dis", {})
    with pytest.raises(SettingsError, match="--preset"):
        resolve_model("dis", "fast", {})


@pytest.mark.parametrize("preset", list(PRESETS))
def test_each_preset_interpolates_a_pair(vnn, pair, tmp_path, preset):
    a, c, middle = pair
    out = tmp_path / f"mid_{preset}.png"
    result = vnn("interpolate", a, c, "-o", out, "--preset", preset)
    assert result.code == 0, result
    made = cv2.imread(str(out))[:, :, ::-1]
    blend = ((cv2.imread(str(a)).astype(float) + cv2.imread(str(c))) / 2).round().astype(np.uint8)[:, :, ::-1]
    assert psnr(made, middle) > psnr(blend, middle) + 3


def test_preset_and_model_together_are_refused(vnn, pair, tmp_path):
    a, c, _ = pair
    result = vnn("interpolate", a, c, "-o", tmp_path / "mid.png", "--preset", "fast", "--model", "dis")
    assert result.code == 2 and "--preset" in result.err and not (tmp_path / "mid.png").exists()


def test_preset_from_the_config_file(vnn, pair, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vnn.toml").write_text('[interpolate]\npreset = "fast"\n')
    result = vnn("config", "interpolate")
    assert result.code == 0, result
    assert json.loads(result.out)["interpolate"]["preset"] == "fast"
    (tmp_path / "vnn.toml").write_text('[interpolate]\npreset = "fastest"\n')
    result = vnn("config", "interpolate")
    assert result.code == 2 and "preset" in result.err


def test_model_param_reaches_the_model_over_the_preset(vnn, pair, tmp_path):
    a, c, _ = pair
    made = {}
    for name, extra in (("flow", ()), ("still", ("--model-param", "dis_preset=none"))):
        result = vnn("interpolate", a, c, "-o", tmp_path / f"{name}.png", "--preset", "fast", *extra)
        assert result.code == 0, result
        made[name] = cv2.imread(str(tmp_path / f"{name}.png"))
    assert np.abs(made["flow"].astype(int) - made["still"].astype(int)).mean() > 0.3  # no motion: another frame
    refused = vnn("interpolate", a, c, "-o", tmp_path / "x.png", "--model-param", "no_such_knob=1")
    assert refused.code != 0 and "no_such_knob" in refused.out + refused.err
    bad = vnn("interpolate", a, c, "-o", tmp_path / "y.png", "--model-param", "judge_share")
    assert bad.code != 0 and "KEY=VALUE" in bad.out + bad.err
