"""`vnn models`: what it prints of each plugin, at the width of a terminal."""
from __future__ import annotations

import pytest

import textwrap


pytestmark = pytest.mark.usefixtures("builtin_plugins")


def test_models_shows_long_plugin_paths_whole_at_80_columns(vnn, tmp_path, monkeypatch):
    from vnn_cli.cli import render

    folder = tmp_path / "a_rather_long_folder_for_the_team_plugins" / "and_one_more_level_of_nesting"
    folder.mkdir(parents=True)
    path = folder / "my_extremely_descriptive_model_plugin.py"
    path.write_text(textwrap.dedent('''
        from vnn_cli import FrameInterpolator, register_model

        @register_model("longpath")
        class LongPath(FrameInterpolator):
            def forward(self, frame0, frame1, t):
                return frame0
        '''))
    monkeypatch.setattr(render.console, "width", 80)
    result = vnn("models", "--plugins", path)
    assert result.code == 0, result
    lines = [line.split("│") for line in result.out.splitlines() if line.startswith("│")]
    start = next(i for i, cells in enumerate(lines) if cells[1].strip() == "longpath")
    pieces = [lines[start][3].strip()]
    for cells in lines[start + 1 :]:
        if cells[1].strip():
            break
        pieces.append(cells[3].strip())
    assert max(len(line) for line in result.out.splitlines()) <= 80
    assert "".join(pieces) == str(path)


def test_models_gives_each_preset_its_measured_quality_and_speed(vnn, monkeypatch):
    from vnn_cli.cli import render
    from vnn_cli.core.presets import MEASURED, PRESETS

    monkeypatch.setattr(render.console, "width", 200)
    result = vnn("models")
    assert result.code == 0, result
    assert set(MEASURED) == set(PRESETS)  # every preset says what it costs
    rows = {cells[1].strip(): [c.strip() for c in cells[1:-1]] for cells in
            (line.split("│") for line in result.out.splitlines() if line.startswith("│")) if cells[1].strip() in PRESETS}
    for preset, measured in MEASURED.items():
        assert rows[preset][-3:] == [f"{measured.psnr_tuning:.2f}", f"{measured.psnr_validation:.2f}", f"{measured.fps_720p:.2f}"]
    assert "measured: vnn bench" in " ".join(result.out.split())
