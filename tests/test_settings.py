"""Settings: defaults < config file < VNN_* environment < flags, and one-line errors (exit status 2)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vnn_cli.video.images import read_image, write_image


@pytest.fixture
def here(tmp_path, monkeypatch):
    """A clean working folder: no vnn.toml, no VNN_* variables from the caller's shell."""
    import os

    for name in [n for n in os.environ if n.startswith("VNN_")]:
        monkeypatch.delenv(name)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def config_json(vnn, *args) -> dict:
    result = vnn("config", "interpolate", *args)
    assert result.code == 0, result
    return json.loads(result.out)


def test_defaults(vnn, here):
    merged = config_json(vnn)
    assert merged["runtime"] == {"device": "auto", "threads": None, "half": False, "plugins": [],
                                 "progress": "auto", "progress_interval": 5.0}
    assert merged["interpolate"]["factor"] == 2
    assert merged["interpolate"]["times"] == [0.5]
    assert merged["interpolate"]["model"] is None and merged["interpolate"]["preset"] == "balanced"  # what runs


def test_config_shows_no_preset_where_a_model_is_named(vnn, here, monkeypatch):
    monkeypatch.setenv("VNN_INTERPOLATE_MODEL", "blend")
    merged = config_json(vnn)
    assert merged["interpolate"]["model"] == "blend" and merged["interpolate"]["preset"] is None


def test_precedence_file_env_flags_in_config_output(vnn, here, monkeypatch):
    (here / "vnn.toml").write_text('threads = 2\ndevice = "cpu"\n[interpolate]\nfactor = 3\ncrf = 20\n')
    merged = config_json(vnn)
    assert merged["runtime"]["threads"] == 2 and merged["runtime"]["device"] == "cpu"
    assert merged["interpolate"]["factor"] == 3 and merged["interpolate"]["crf"] == 20

    monkeypatch.setenv("VNN_THREADS", "3")
    monkeypatch.setenv("VNN_INTERPOLATE_FACTOR", "5")
    merged = config_json(vnn)
    assert merged["runtime"]["threads"] == 3  # environment over file
    assert merged["interpolate"]["factor"] == 5
    assert merged["interpolate"]["crf"] == 20  # the file still gives what the environment does not

    merged = config_json(vnn, "--threads", "4")
    assert merged["runtime"]["threads"] == 4  # flag over environment
    assert merged["interpolate"]["factor"] == 5


def _two_images(folder: Path) -> tuple[Path, Path]:
    a, b = folder / "a.png", folder / "b.png"
    write_image(a, np.zeros((8, 12, 3), np.uint8))
    write_image(b, np.full((8, 12, 3), 200, np.uint8))
    return a, b


def test_precedence_has_a_real_effect(vnn, here, monkeypatch):
    """The blend of black and 200-gray at time t is 200*t: the value shows which layer won."""
    a, b = _two_images(here)

    def middle(*flags) -> int:
        result = vnn("interpolate", a, b, "-o", "mid.png", "--overwrite", "-m", "blend", *flags)
        assert result.code == 0, result
        return int(read_image(here / "mid.png").mean().round())

    assert middle() == 100  # default t = 0.5
    (here / "vnn.toml").write_text("[interpolate]\ntimes = [0.25]\n")
    assert middle() == 50
    monkeypatch.setenv("VNN_INTERPOLATE_TIMES", "0.75")
    assert middle() == 150
    assert middle("--time", "0.4") == 80


def test_env_lists(vnn, here, monkeypatch):
    monkeypatch.setenv("VNN_INTERPOLATE_TIMES", "0.25, 0.5,0.75")
    assert config_json(vnn)["interpolate"]["times"] == [0.25, 0.5, 0.75]
    monkeypatch.setenv("VNN_PLUGINS", f"one.py{__import__('os').pathsep}two")
    assert config_json(vnn)["runtime"]["plugins"] == ["one.py", "two"]


def test_env_list_makes_several_outputs(vnn, here, monkeypatch):
    a, b = _two_images(here)
    monkeypatch.setenv("VNN_INTERPOLATE_TIMES", "0.25,0.75")
    result = vnn("interpolate", a, b, "-o", "mid.png", "-m", "blend")
    assert result.code == 0, result
    assert int(read_image(here / "mid_1.png").mean().round()) == 50
    assert int(read_image(here / "mid_2.png").mean().round()) == 150


def test_unknown_key_in_file(vnn, here):
    (here / "vnn.toml").write_text("[interpolate]\nfactr = 3\n")
    result = vnn("config", "interpolate")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1
    assert "interpolate.factr" in lines[0] and "unknown key" in lines[0] and "vnn.toml" in lines[0]


def test_unknown_key_in_another_table_is_caught_too(vnn, here):
    (here / "vnn.toml").write_text("[train]\nstepz = 3\n")
    result = vnn("config", "interpolate")
    assert result.code == 2 and "train.stepz" in result.err


def test_unknown_table_in_file(vnn, here):
    (here / "vnn.toml").write_text("[interpolat]\nfactor = 3\n")
    result = vnn("config")
    assert result.code == 2 and "interpolat" in result.err and "unknown key" in result.err


@pytest.mark.parametrize(("toml", "key", "value", "allowed"), [
    ('[interpolate]\nfactor = "lots"\n', "interpolate.factor", "'lots'", "integer"),
    ("[interpolate]\nfactor = 1\n", "interpolate.factor", "1", "greater than or equal to 2"),
    ('[interpolate]\ntimes = [0.5, 1.5]\n', "interpolate.times", "1.5", "less than 1"),
    ('device = "gpu"\n', "device", "'gpu'", "cuda"),
    ("threads = 0\n", "threads", "0", "greater than or equal to 1"),
])
def test_wrong_value_in_file_names_key_value_and_what_is_allowed(vnn, here, toml, key, value, allowed):
    (here / "vnn.toml").write_text(toml)
    result = vnn("config", "interpolate")
    assert result.code == 2, result
    line = result.err.strip()
    assert "\n" not in line
    assert f"invalid setting {key}" in line and value in line and allowed in line


def test_wrong_value_from_environment_and_flags(vnn, here, monkeypatch):
    monkeypatch.setenv("VNN_INTERPOLATE_CRF", "99")
    result = vnn("config", "interpolate")
    assert result.code == 2
    assert "interpolate.crf" in result.err and "'99'" in result.err and "environment" in result.err
    monkeypatch.delenv("VNN_INTERPOLATE_CRF")
    result = vnn("config", "interpolate", "--threads", "0")
    assert result.code == 2
    assert "invalid setting threads = 0 (from --threads)" in result.err
    a, b = _two_images(here)
    result = vnn("interpolate", a, b, "-o", "mid.png", "-m", "blend", "--batch-size", "0")
    assert result.code == 2 and "interpolate.batch_size = 0" in result.err
    assert not (here / "mid.png").exists()


def test_invalid_toml(vnn, here):
    (here / "vnn.toml").write_text("factor = \n")
    result = vnn("config")
    assert result.code == 2 and "not valid TOML" in result.err and "vnn.toml" in result.err


def test_config_option_names_the_file(vnn, here, tmp_path):
    other = tmp_path / "elsewhere.toml"
    other.write_text("[interpolate]\nfactor = 7\n")
    (here / "vnn.toml").write_text("[interpolate]\nfactor = 3\n")
    assert config_json(vnn, "--config", other)["interpolate"]["factor"] == 7  # --config beats ./vnn.toml
    result = vnn("config", "interpolate", "--config", tmp_path / "missing.toml")
    assert result.code == 2 and "missing.toml" in result.err and "does not exist" in result.err


def test_user_config_dir(vnn, here, tmp_path, monkeypatch):
    user = tmp_path / "xdg"
    (user / "vnn").mkdir(parents=True)
    (user / "vnn" / "vnn.toml").write_text("[interpolate]\nfactor = 6\n[extract]\nevery = 4\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(user))
    assert config_json(vnn)["interpolate"]["factor"] == 6
    result = vnn("config", "extract")
    assert result.code == 0 and json.loads(result.out)["extract"]["every"] == 4
    (here / "vnn.toml").write_text("[interpolate]\nfactor = 3\n")
    assert config_json(vnn)["interpolate"]["factor"] == 3  # ./vnn.toml comes first


def test_plugins_in_a_config_file_are_relative_to_it(vnn, here, tmp_path, monkeypatch):
    user = tmp_path / "xdg"
    (user / "vnn").mkdir(parents=True)
    (user / "vnn" / "vnn.toml").write_text('plugins = ["mine.py"]\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(user))
    assert config_json(vnn)["runtime"]["plugins"] == [str(user / "vnn" / "mine.py")]


def test_config_without_section_shows_every_command(vnn, here):
    result = vnn("config")
    assert result.code == 0, result
    merged = json.loads(result.out)
    assert {"runtime", "interpolate", "slowmo", "extract", "train", "bench"} <= set(merged)


def test_extract_settings_from_file_have_an_effect(vnn, here, tmp_path):
    from conftest import moving_frames, write_clip

    clip = write_clip(tmp_path / "clip.mp4", moving_frames(10), 25)
    (here / "vnn.toml").write_text("[extract]\nevery = 5\n")
    result = vnn("extract", clip, "-o", "frames")
    assert result.code == 0, result
    assert len(list((here / "frames").glob("*.png"))) == 2


# ---- settings that would do nothing, or not what was written, are refused ---------------------

def one_error_line(result) -> str:
    assert result.code == 2, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vnn: error:"), result
    return lines[0]


@pytest.fixture
def video(here):
    from conftest import moving_frames, write_clip

    return write_clip(here / "clip.mp4", moving_frames(5), 25)


@pytest.mark.parametrize("flags", [["--time", "0.3"], ["--times", "0.2,0.4"], ["--count", "3"]])
def test_two_image_options_are_refused_for_a_video(vnn, video, flags):
    line = one_error_line(vnn("interpolate", video, *flags, "-m", "blend", "-o", "out.mp4"))
    assert flags[0] in line and "two images" in line
    assert not Path("out.mp4").exists()


def test_image_format_is_refused_where_every_output_is_a_video(vnn, video, here):
    for args in (["interpolate", video, "-o", "out.mp4"], ["slowmo", video], ["slowmo", video, "-o", "slow.mp4"]):
        line = one_error_line(vnn(*args, "--image-format", "jpg", "-m", "blend"))
        assert "--image-format" in line and "video" in line
    assert not any(p.suffix == ".mp4" and p.name != "clip.mp4" for p in here.iterdir())
    # Into a folder, it is the frames' format.
    result = vnn("interpolate", video, "--image-format", "jpg", "-m", "blend", "-o", "frames")
    assert result.code == 0, result
    assert len(list((here / "frames").glob("*.jpg"))) == 9


@pytest.mark.parametrize(("name", "close"), [("VNN_INTERPOLATE_FACTR", "VNN_INTERPOLATE_FACTOR"), ("VNN_DEVICES", "VNN_DEVICE"),
                                             ("VNN_SLOWMO_AUDIOS", "VNN_SLOWMO_AUDIO")])
def test_environment_variables_that_match_no_setting_are_refused(vnn, here, monkeypatch, name, close):
    monkeypatch.setenv(name, "3")
    line = one_error_line(vnn("config", "interpolate"))
    assert name in line and f"did you mean {close}" in line


def test_environment_of_other_commands_and_other_uses_is_accepted(vnn, here, monkeypatch):
    monkeypatch.setenv("VNN_SLOWMO_AUDIO", "drop")  # another command's setting
    monkeypatch.setenv("VNN_VGG_WEIGHTS", "vgg.pth")  # read where it is used, not a setting
    monkeypatch.setenv("VNN_CPU_BF16", "0")
    assert config_json(vnn)["interpolate"]["factor"] == 2


def test_environment_variables_like_no_setting_are_reported_and_left_to_plugins(vnn, here, monkeypatch):
    monkeypatch.setenv("VNN_MYPLUGIN_LEVEL", "3")  # nothing like a setting: perhaps a plugin's own
    result = vnn("config", "interpolate")
    assert result.code == 0, result
    assert [line for line in result.err.splitlines() if line.strip()] == [
        "vnn: warning: environment variable VNN_MYPLUGIN_LEVEL matches no vnn setting: vnn ignores it (a plugin may read it)"]


@pytest.mark.parametrize(("toml", "key", "value"), [
    ('[interpolate]\nfactor = "4"\n', "interpolate.factor", "'4'"),
    ("[interpolate]\nfactor = true\n", "interpolate.factor", "True"),
    ("half = 1\n", "half", "1"),
    ('[interpolate]\nscene_threshold = "0.3"\n', "interpolate.scene_threshold", "'0.3'"),
])
def test_config_file_values_of_the_wrong_type_are_refused(vnn, here, toml, key, value):
    (here / "vnn.toml").write_text(toml)
    line = one_error_line(vnn("config", "interpolate"))
    assert f"invalid setting {key} = {value}" in line and "vnn.toml" in line


def test_config_file_with_every_kind_of_value_in_its_own_type_is_accepted(vnn, here):
    (here / "vnn.toml").write_text('plugins = []\nthreads = 2\nhalf = false\n[interpolate]\nfactor = 4\nscene_threshold = 0\n'
                                   'weights = "w.safetensors"\ntimes = [0.25, 0.5]\n[train]\ndata = ["clips"]\n'
                                   '[bench]\nweights = { rife = "r.safetensors" }\n')
    merged = config_json(vnn)
    assert merged["interpolate"]["factor"] == 4 and merged["interpolate"]["weights"] == "w.safetensors"


def test_unknown_encoder_preset_is_named(vnn, video):
    line = one_error_line(vnn("interpolate", video, "--encoder-preset", "bogus", "-m", "blend", "-o", "out.mp4"))
    assert "encoder_preset = 'bogus'" in line and "veryfast" in line
    assert not Path("out.mp4").exists()
