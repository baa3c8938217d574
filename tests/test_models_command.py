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
