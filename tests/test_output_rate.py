"""The output rate: --fps bounded as --factor is, and --factor with --fps refused (from the command
line or the config file) unless the command line chooses."""
from __future__ import annotations

import pytest

from vnn_cli.core.timing import MAX_FACTOR

pytestmark = pytest.mark.usefixtures("builtin_plugins")


def test_fps_far_above_the_source_is_refused_in_one_line(vnn, clip, tmp_path):
    for args in (["interpolate", clip, "--fps", "1e9", "-o", tmp_path / "a.mp4"],
                 ["interpolate", clip, "--fps", "100000", "-o", tmp_path / "b.mp4"],
                 ["slowmo", clip, "--factor", "4", "--fps", "1e9", "-o", tmp_path / "c.mp4"]):
        result = vnn(*args, "-m", "blend")
        assert result.code == 2, result
        assert len(result.err.strip().splitlines()) == 1 and f"at most {MAX_FACTOR}, as --factor" in result.err, result
    assert not any((tmp_path / name).exists() for name in ("a.mp4", "b.mp4", "c.mp4"))
    assert vnn("interpolate", clip, "--fps", str(25 * MAX_FACTOR), "-m", "blend", "-o", tmp_path / "ok.mp4").code == 0


def test_factor_and_fps_together_are_refused(vnn, clip, tmp_path):
    result = vnn("interpolate", clip, "--factor", "2", "--fps", "60", "-m", "blend", "-o", tmp_path / "out.mp4")
    assert result.code == 2 and result.err.strip() == "vnn: error: --factor and --fps both set the output rate: give one", result
    assert not (tmp_path / "out.mp4").exists()


def test_factor_on_the_command_line_beats_fps_from_the_config(vnn, clip, tmp_path):
    config = tmp_path / "vnn.toml"
    config.write_text("[interpolate]\nfps = 60\n")
    result = vnn("interpolate", clip, "--factor", "3", "-m", "blend", "--config", config, "-o", tmp_path / "out.mp4")
    assert result.code == 0, result
    from conftest import probe_video

    assert probe_video(tmp_path / "out.mp4")["fps"] == 75


def test_factor_and_fps_both_in_the_config_are_refused_unless_the_command_line_chooses(vnn, clip, tmp_path):
    config = tmp_path / "vnn.toml"
    config.write_text("[interpolate]\nfactor = 3\nfps = 60\n")
    result = vnn("interpolate", clip, "-m", "blend", "--config", config, "-o", tmp_path / "out.mp4")
    assert result.code == 2 and "factor and fps both set the output rate in the settings" in result.err, result
    assert len(result.err.strip().splitlines()) == 1 and not (tmp_path / "out.mp4").exists()
    chosen = vnn("interpolate", clip, "-m", "blend", "--config", config, "--fps", "50", "-o", tmp_path / "fps.mp4")
    assert chosen.code == 0, chosen
    from conftest import probe_video

    assert probe_video(tmp_path / "fps.mp4")["fps"] == 50



@pytest.mark.parametrize("command, rate", [("interpolate", "1e400"), ("slowmo", "1e400"), ("interpolate", "inf"),
                                           ("slowmo", "1e-400"), ("interpolate", "-5")])
def test_absurd_rates_are_refused_in_one_line(vnn, clip, tmp_path, command, rate):
    result = vnn(command, clip, "--fps", rate, "-m", "blend", "-o", tmp_path / "out.mp4")
    assert result.code == 2, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vnn: error: invalid setting") and "fps" in lines[0], result
    assert not (tmp_path / "out.mp4").exists()


def test_fps_not_above_the_source_is_a_settings_error_as_the_others_are(vnn, clip, tmp_path):
    result = vnn("interpolate", clip, "--fps", "6", "-m", "blend", "-o", tmp_path / "out.mp4")
    assert result.code == 2, result
    assert result.err.strip() == "vnn: error: target rate 6 fps is not above the source's 25.000 fps", result
    assert not (tmp_path / "out.mp4").exists()
