"""A batch (a folder of videos, or several inputs) reports what it did where a script or a person
reading a log sees it: each failure one line on stderr, what was left out in one line, outputs kept
from an earlier run named; and a batch into its own folder is refused before it starts."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import moving_frames, probe_video, write_clip

pytestmark = pytest.mark.usefixtures("builtin_plugins")


def videos_folder(folder: Path, names: tuple[str, ...] = ("a", "b")) -> Path:
    folder.mkdir()
    for seed, name in enumerate(names):
        write_clip(folder / f"{name}.mp4", moving_frames(5, seed=seed), 25)
    return folder


def test_batch_into_its_own_folder_is_refused_in_one_line(vnn, work):
    videos = videos_folder(work / "videos")
    before = sorted(p.name for p in videos.iterdir())
    for extra in ([], ["--overwrite"]):
        result = vnn("interpolate", videos, "-m", "blend", "-o", videos, *extra)
        assert result.code == 1, result
        lines = result.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("vnn: error:") and "is the input" in lines[0], result
        assert "Summary" not in result.out
    assert sorted(p.name for p in videos.iterdir()) == before


def test_each_failure_is_one_line_on_stderr_and_what_was_left_out_one_more(vnn, work):
    videos = videos_folder(Path("videos"), ("a", "c"))
    (videos / "b.mp4").write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    (videos / "notes.txt").write_text("shot list\n")
    (videos / "raw").mkdir()
    (videos / ".DS_Store").write_bytes(b"\0")  # hidden: nobody's input, not worth a word
    result = vnn("interpolate", videos, "-m", "blend", "-o", "out")
    assert result.code == 1, result
    assert sorted(p.name for p in Path("out").iterdir()) == ["a.mp4", "c.mp4"]
    lines = result.err.strip().splitlines()
    failed = [line for line in lines if "videos/b.mp4" in line]
    assert len(failed) == 1 and failed[0].startswith("vnn: error:") and "not a video" in failed[0], result
    left_out = [line for line in lines if "notes.txt" in line]
    assert len(left_out) == 1 and "raw/" in left_out[0] and ".DS_Store" not in left_out[0], result
    assert len(lines) == 2, result


def test_a_rerun_with_other_settings_names_the_outputs_it_kept(vnn, work):
    videos = videos_folder(work / "videos")
    first = vnn("interpolate", videos, "-m", "blend", "--factor", "2", "-o", "out")
    assert first.code == 0 and not first.err.strip(), first
    again = vnn("interpolate", videos, "-m", "blend", "--factor", "4", "-o", "out")
    assert again.code == 0, again
    lines = again.err.strip().splitlines()
    assert len(lines) == 1 and "kept 2 existing outputs" in lines[0] and "--overwrite" in lines[0], again
    assert "out/a.mp4" in lines[0] and "out/b.mp4" in lines[0]
    assert probe_video(Path("out/a.mp4"))["frames"] == 9  # still the first run's
    replaced = vnn("interpolate", videos, "-m", "blend", "--factor", "4", "--overwrite", "-o", "out")
    assert replaced.code == 0 and not replaced.err.strip(), replaced
    assert probe_video(Path("out/a.mp4"))["frames"] == 17
