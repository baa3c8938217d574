"""`vnn extract`: frames, audio and training triplets from real (generated) clips."""
from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest
from conftest import moving_frames, write_clip

from vnn_cli.train.triplets import TripletCounts, _windows
from vnn_cli.video.images import read_image
from vnn_cli.video.reader import VideoReader


@pytest.fixture
def clip20(tmp_path: Path) -> Path:
    """20 frames, 64×48, 25 fps (0.8 s), with sound."""
    return write_clip(tmp_path / "clip.mp4", moving_frames(20), 25, audio=True)


def pngs(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.png"))


def triplet_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir())


def test_frames_every_start_end(vnn, clip20, tmp_path):
    source = list(VideoReader(clip20))
    assert len(source) == 20

    result = vnn("extract", clip20, "-o", tmp_path / "all")
    assert result.code == 0, result
    files = pngs(tmp_path / "all")
    assert [f.name for f in files[:2]] == ["000000.png", "000001.png"]
    assert len(files) == 20
    assert np.array_equal(read_image(files[7]), source[7])

    result = vnn("extract", clip20, "--every", "3", "-o", tmp_path / "every3")
    assert result.code == 0, result
    files = pngs(tmp_path / "every3")
    assert len(files) == 7  # frames 0, 3, ..., 18
    assert np.array_equal(read_image(files[2]), source[6])

    # 0.2 s to 0.6 s at 25 fps: frames 5 to 14.
    result = vnn("extract", clip20, "--start", "0.2", "--end", "0.6", "-o", tmp_path / "span")
    assert result.code == 0, result
    files = pngs(tmp_path / "span")
    assert len(files) == 10
    assert np.abs(read_image(files[0]).astype(int) - source[5]).mean() < 1.0

    result = vnn("extract", clip20, "--start", "0.2", "--end", "0.6", "--every", "2", "-o", tmp_path / "both")
    assert result.code == 0, result
    assert len(pngs(tmp_path / "both")) == 5


def test_frames_resize(vnn, clip20, tmp_path):
    result = vnn("extract", clip20, "--resize", "32x20", "--every", "10", "-o", tmp_path / "small")
    assert result.code == 0, result
    files = pngs(tmp_path / "small")
    assert len(files) == 2
    assert read_image(files[0]).shape == (20, 32, 3)


def test_frames_refuse_non_empty_folder_without_overwrite(vnn, clip20, tmp_path):
    out = tmp_path / "frames"
    assert vnn("extract", clip20, "-o", out).code == 0
    again = vnn("extract", clip20, "--every", "5", "-o", out)
    assert again.code == 1 and "--overwrite" in again.err
    assert len(pngs(out)) == 20
    # An overwrite with fewer frames leaves no stale frames of the earlier run behind.
    assert vnn("extract", clip20, "--every", "5", "-o", out, "--overwrite").code == 0
    assert len(pngs(out)) == 4


@pytest.mark.parametrize("suffix", [".wav", ".mp3"])
def test_audio_to_file_of_the_right_duration(vnn, clip20, tmp_path, suffix):
    from moviepy.video.io.ffmpeg_reader import ffmpeg_parse_infos

    out = tmp_path / f"sound{suffix}"
    result = vnn("extract", clip20, "--audio", out)
    assert result.code == 0, result
    infos = ffmpeg_parse_infos(str(out))
    assert infos["audio_found"] and not infos["video_found"]
    assert abs(infos["duration"] - 0.8) < 0.1
    if suffix == ".wav":
        with wave.open(str(out)) as w:
            seconds = w.getnframes() / w.getframerate()
            samples = np.frombuffer(w.readframes(w.getnframes()), np.int16)
        assert abs(seconds - 0.8) < 0.1
        assert np.abs(samples).max() > 1000  # the 440 Hz tone, not silence


def test_audio_span_and_missing_audio(vnn, clip20, tmp_path):
    out = tmp_path / "part.wav"
    assert vnn("extract", clip20, "--audio", out, "--start", "0.2", "--end", "0.6").code == 0
    with wave.open(str(out)) as w:
        assert abs(w.getnframes() / w.getframerate() - 0.4) < 0.05
    silent = write_clip(tmp_path / "silent.mp4", moving_frames(8), 25)
    result = vnn("extract", silent, "--audio", tmp_path / "none.wav")
    assert result.code == 1
    assert "has no audio" in result.err and "silent.mp4" in result.err
    assert not (tmp_path / "none.wav").exists()


def test_triplets_layout_and_content(vnn, clip20, tmp_path):
    out = tmp_path / "train"
    # A crop larger than the frame keeps whole frames, so triplet k is frames (k, k+1, k+2).
    result = vnn("extract", clip20, "--triplets", "--crop", "512", "--min-motion", "0", "-o", out)
    assert result.code == 0, result
    source = list(VideoReader(clip20))
    folders = triplet_dirs(out)
    assert [f.name for f in folders[:2]] == ["clip_000000", "clip_000001"]
    assert len(folders) == 18
    for folder in (folders[0], folders[9]):
        assert sorted(p.name for p in folder.iterdir()) == ["im1.png", "im2.png", "im3.png"]
    k = 9
    for offset, name in enumerate(("im1.png", "im2.png", "im3.png")):
        assert np.array_equal(read_image(folders[k] / name), source[k + offset])
    summary = json.loads((out / "triplets.json").read_text())
    assert summary["triplets"] == 18 and summary["videos"]["clip"]["triplets"] == 18
    assert summary["skipped_static"] == 0 and summary["skipped_cuts"] == 0


def test_triplets_crops_strides_and_seed(vnn, clip20, tmp_path):
    args = ["--triplets", "--crop", "24", "--stride", "1,2", "--crops-per-triplet", "2", "--min-motion", "0"]
    assert vnn("extract", clip20, *args, "-o", tmp_path / "a").code == 0
    folders = triplet_dirs(tmp_path / "a")
    assert len(folders) == 2 * (18 + 16)  # two crops of each stride-1 and stride-2 window
    assert read_image(folders[0] / "im2.png").shape == (24, 24, 3)
    # The same seed gives the same crops; another seed other crops.
    assert vnn("extract", clip20, *args, "-o", tmp_path / "b").code == 0
    assert vnn("extract", clip20, *args, "--seed", "7", "-o", tmp_path / "c").code == 0
    first = [read_image(tmp_path / d / "clip_000005" / "im1.png") for d in "abc"]
    assert np.array_equal(first[0], first[1])
    assert not all(np.array_equal(read_image(tmp_path / "a" / f / "im1.png"), read_image(tmp_path / "c" / f / "im1.png"))
                   for f in ("clip_000003", "clip_000004", "clip_000005", "clip_000006"))


def test_static_triplets_skipped(vnn, tmp_path):
    frames = moving_frames(8)
    frames += [frames[-1].copy() for _ in range(8)]  # then the picture stands still
    clip = write_clip(tmp_path / "still.mp4", frames, 25)
    out = tmp_path / "train"
    result = vnn("extract", clip, "--triplets", "--crop", "512", "-o", out)
    assert result.code == 0, result
    summary = json.loads((out / "triplets.json").read_text())["videos"]["still"]
    # Windows (i, i+1, i+2) for i = 0..13; from i = 7 on, both outer frames are still.
    assert summary["windows"] == 14
    assert summary["skipped_static"] == 7
    assert summary["triplets"] == 7 == len(triplet_dirs(out))
    # --min-motion 0 keeps them all.
    assert vnn("extract", clip, "--triplets", "--crop", "512", "--min-motion", "0", "-o", tmp_path / "all").code == 0
    assert len(triplet_dirs(tmp_path / "all")) == 14


def test_triplets_across_a_scene_cut_skipped(vnn, tmp_path):
    frames = moving_frames(8, seed=0) + moving_frames(8, seed=1)  # a hard cut between frames 7 and 8
    clip = write_clip(tmp_path / "cut.mp4", frames, 25)
    out = tmp_path / "train"
    result = vnn("extract", clip, "--triplets", "--crop", "512", "--stride", "1,2", "--min-motion", "0", "-o", out)
    assert result.code == 0, result
    summary = json.loads((out / "triplets.json").read_text())
    # Stride 1: windows starting at 6 and 7 span the cut; stride 2: those starting at 4 to 7.
    assert summary["skipped_cuts"] == 2 + 4
    assert summary["triplets"] == (14 - 2) + (12 - 4)
    source = list(VideoReader(clip))
    for folder in triplet_dirs(out):
        first = read_image(folder / "im1.png")
        last = read_image(folder / "im3.png")
        index = next(i for i, f in enumerate(source) if np.array_equal(f, first))
        assert (index < 8) == any(np.array_equal(f, last) for f in source[:8]), folder.name


def test_windows_hold_at_most_two_strides_of_frames():
    consumed = []

    def frames():
        for i in range(30):
            consumed.append(i)
            yield np.full((4, 4, 3), i * 8, np.uint8)

    windows = _windows(frames(), [1, 3], 0.0, TripletCounts())
    stride, first, middle, last, crosses = next(windows)
    assert stride == 1 and len(consumed) == 3
    later = [w for w in windows if w[0] == 3]
    assert len(consumed) == 30 and len(later) == 30 - 6
    assert [int(x[0, 0, 0]) // 8 for x in later[0][1:4]] == [0, 3, 6]


def test_triplets_batch_into_one_folder(vnn, tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    write_clip(videos / "a.mp4", moving_frames(8, seed=2), 25)
    write_clip(videos / "b.mp4", moving_frames(6, seed=3), 25)
    out = tmp_path / "train"
    result = vnn("extract", videos, "--triplets", "--crop", "32", "--min-motion", "0", "-o", out)
    assert result.code == 0, result
    names = [p.name for p in triplet_dirs(out)]
    assert names == [f"a_{i:06d}" for i in range(6)] + [f"b_{i:06d}" for i in range(4)]
    summary = json.loads((out / "triplets.json").read_text())
    assert summary["triplets"] == 10 and set(summary["videos"]) == {"a", "b"}
    again = vnn("extract", videos, "--triplets", "--crop", "32", "--min-motion", "0", "-o", out)
    assert again.code == 0 and again.out.count("skipped") == 2


def test_batch_folder_with_a_corrupt_video(vnn, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # short relative paths keep the summary table's rows on one line
    videos = Path("videos")
    videos.mkdir()
    write_clip(videos / "a.mp4", moving_frames(6, seed=1), 25)
    (videos / "b.mp4").write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    write_clip(videos / "c.mp4", moving_frames(5, seed=2), 25)
    out = Path("frames")
    result = vnn("extract", videos, "-o", out)
    assert result.code == 1, result
    assert len(pngs(out / "a")) == 6 and len(pngs(out / "c")) == 5
    assert not (out / "b").exists()
    assert "Summary" in result.out
    failed = [line for line in result.out.splitlines() if "failed" in line]
    assert len(failed) == 1 and "videos/b.mp4" in failed[0] and "not a video" in failed[0]
    assert result.out.count("done") == 2
    # A rerun skips what is done and still reports the broken one.
    again = vnn("extract", videos, "-o", out)
    assert again.code == 1 and again.out.count("skipped") == 2


def test_batch_audio_into_folder(vnn, tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    write_clip(videos / "a.mp4", moving_frames(10), 25, audio=True)
    write_clip(videos / "b.mp4", moving_frames(5), 25, audio=True)
    out = tmp_path / "sounds"
    result = vnn("extract", videos, "--audio", ".wav", "-o", out)
    assert result.code == 0, result
    with wave.open(str(out / "a.wav")) as w:
        assert abs(w.getnframes() / w.getframerate() - 0.4) < 0.1
    assert (out / "b.wav").is_file()
