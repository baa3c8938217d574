"""Range runs and `vnn join` (issue 17 item 1): parts made with --frames on a clip with a scene cut
and duplicate frames are, put together, the whole run's frames bit for bit (PNG sequences
compared file by file, lossless FFV1 videos frame by frame), for factors 2 and 4, an --fps
conversion, dedup and slowmo, with the blend and the default model; the join refuses a set with a
gap, an overlap, mixed settings or a part of another source, in one line."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import moving_frames, write_clip
from vnn_cli.video.images import read_image
from vnn_cli.video.reader import VideoReader

pytestmark = pytest.mark.usefixtures("builtin_plugins")

RANGES = ["0-9", "10-17", "18-99"]  # the last reaches past the clip's end: to the end


def _frames() -> list[np.ndarray]:
    """24 frames: a moving square, two repeats of frame 4 (duplicates), a scene cut after frame 13."""
    first, second = moving_frames(12, seed=1), moving_frames(12, seed=7, speed=3)
    return (first[:5] + [first[4], first[4]] + first[5:] + second)[:24]


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    return write_clip(tmp_path_factory.mktemp("ranges") / "clip.mp4", _frames(), 25, audio=True)


def _same_folders(whole: Path, joined: Path) -> None:
    expected = sorted(p.name for p in whole.glob("*.png"))
    assert sorted(p.name for p in joined.glob("*.png")) == expected
    for name in expected:
        assert np.array_equal(read_image(whole / name), read_image(joined / name)), name


@pytest.mark.parametrize("command, args", [
    ("interpolate", ["-m", "blend", "--factor", "2"]),
    ("interpolate", ["-m", "blend", "--factor", "4"]),
    ("interpolate", ["-m", "blend", "--fps", "60", "--dedup"]),
    ("slowmo", ["-m", "blend", "--factor", "3"]),
    ("interpolate", ["--factor", "2", "--dedup"]),  # the default model: fusion, quadratic motion through neighbours
    ("interpolate", ["--factor", "4"]),
], ids=["blend-x2", "blend-x4", "blend-fps60-dedup", "blend-slowmo3", "default-x2-dedup", "default-x4"])
def test_png_parts_together_are_the_whole_run(vnn, source, tmp_path, command, args):
    whole = vnn(command, source, *args, "-o", tmp_path / "whole")
    assert whole.code == 0, whole
    assert "scene cuts: 1" in whole.out
    if "--dedup" in args:
        assert "duplicates dropped: 2" in whole.out
    together = tmp_path / "together"
    together.mkdir()
    for frames in RANGES:
        part = vnn(command, source, *args, "--frames", frames, "-o", tmp_path / f"part_{frames}")
        assert part.code == 0, part
        for frame in (tmp_path / f"part_{frames}").glob("*.png"):
            shutil.copy(frame, together / frame.name)
    _same_folders(tmp_path / "whole", together)
    joined = vnn("join", *(tmp_path / f"part_{frames}" for frames in RANGES), "-o", tmp_path / "joined")
    assert joined.code == 0, joined
    _same_folders(tmp_path / "whole", tmp_path / "joined")


@pytest.mark.parametrize("command, args", [
    ("interpolate", ["-m", "blend", "--fps", "60"]),
    ("slowmo", ["-m", "blend", "--factor", "2"]),
])
def test_video_parts_join_without_reencoding_and_keep_the_audio(vnn, source, tmp_path, command, args):
    lossless = ["--codec", "ffv1"]
    assert vnn(command, source, *args, *lossless, "-o", tmp_path / "whole.mkv").code == 0
    (tmp_path / "parts").mkdir()
    for frames in RANGES:
        part = vnn(command, source, *args, *lossless, "--frames", frames, "-o", tmp_path / "parts" / f"part_{frames}.mkv")
        assert part.code == 0, part
    joined = vnn("join", tmp_path / "parts", "-o", tmp_path / "joined.mkv")
    assert joined.code == 0, joined
    whole, together = VideoReader(tmp_path / "whole.mkv"), VideoReader(tmp_path / "joined.mkv")
    assert together.audio is not None and abs(together.info.duration - whole.info.duration) < 0.05
    expected, got = list(whole), list(together)
    assert len(got) == len(expected)
    assert all(np.array_equal(a, b) for a, b in zip(expected, got))


@pytest.fixture(scope="module")
def parts(source, tmp_path_factory) -> Path:
    """Blend parts of --factor 2, 0-9, 10-17 and 18-23, and odd ones for the refusals."""
    from vnn_cli.core.plugins import load_plugins
    from vnn_cli.render.engine import Interpolator
    from vnn_cli.render.outputs import EncodeOptions
    from vnn_cli.render.pipeline import load_model
    from vnn_cli.render.ranges import run_range

    load_plugins()
    folder = tmp_path_factory.mktemp("parts")
    blend = Interpolator(load_model("blend", None, {}, "cpu"), "cpu")
    lossless = EncodeOptions(codec="ffv1")
    for frames in ("0-9", "10-17", "18-23", "0-11", "10-23"):
        run_range(source, folder / f"p{frames}.mkv", blend, frames, options=lossless)
    run_range(source, folder / "x4_10-17.mkv", blend, "10-17", factor=4, options=lossless)
    other = write_clip(folder / "other.mp4", moving_frames(24, seed=3), 25)
    run_range(other, folder / "other_10-17.mkv", blend, "10-17", options=lossless)
    return folder


@pytest.mark.parametrize("names, message", [
    (["p0-9", "p18-23"], "vnn: error: gap: input frames 10-17 are in no part (the next part, p18-23.mkv, starts at frame 18)"),
    (["p0-9", "p10-17"], "vnn: error: gap: input frames from 18 to the clip's end are in no part "
                         "(the last part, p10-17.mkv, ends at frame 17)"),
    (["p0-11", "p10-17", "p18-23"], "vnn: error: overlap: p0-11.mkv and p10-17.mkv both hold input frames 10-11"),
    (["p0-9", "x4_10-17", "p18-23"], "vnn: error: x4_10-17.mkv was made with other settings than p0-9.mkv: "
                                     "fps 100 against 50 (and 1 more settings)"),
    (["p0-9", "other_10-17", "p18-23"], "vnn: error: other_10-17.mkv is a part of another source (other.mp4) than p0-9.mkv (clip.mp4)"),
], ids=["gap", "gap-at-the-end", "overlap", "mixed-settings", "foreign-part"])
def test_join_refuses_a_set_that_is_not_one_run(vnn, parts, tmp_path, names, message):
    result = vnn("join", *(parts / f"{name}.mkv" for name in names), "-o", tmp_path / "out.mkv")
    assert result.code == 1
    assert result.err.strip() == message
    assert not (tmp_path / "out.mkv").exists()


def test_join_refuses_a_file_that_is_no_part_and_a_source_that_changed(vnn, parts, source, tmp_path):
    result = vnn("join", parts / "p0-9.mkv", source, "-o", tmp_path / "out.mkv")
    assert result.code == 1 and "clip.mp4 is not a vnn part: it has no vnn_part record" in result.err
    result = vnn("join", *(parts / f"p{f}.mkv" for f in ("0-9", "10-17", "18-23")), "--source", parts / "other.mp4",
                 "-o", tmp_path / "out.mkv")
    assert result.code == 1 and "other.mp4 is not the parts' source (clip.mp4): its content differs" in result.err


def test_frames_is_refused_where_it_makes_no_part(vnn, source, tmp_path):
    result = vnn("interpolate", source, "-m", "blend", "--frames", "9-3", "-o", tmp_path / "p.mkv")
    assert result.code == 2 and "the last frame comes before the first" in result.err
    result = vnn("interpolate", source, "-m", "blend", "--frames", "0-9", "-o", tmp_path / "p.webm")
    assert result.code == 2 and "--frames writes parts as .mkv, .mp4, .mov" in result.err
    result = vnn("interpolate", source, "-m", "blend", "--frames", "30-40", "-o", tmp_path / "p.mkv")
    assert result.code == 1 and "--frames 30-40: the input has 24 frames (0 to 23)" in result.err
    assert not (tmp_path / "p.mkv").exists()
