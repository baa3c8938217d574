"""Inputs as they come from real users: rotated phone videos, gaps in an image sequence's
numbering, image bombs, stray images in a batch folder, every output container, and sequences
that must keep their frame rate through a round trip. Every file is made here, with the bundled
ffmpeg and real images."""
from __future__ import annotations

import re
import struct
import subprocess
import time
import zlib
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from conftest import moving_frames, write_clip
from vnn_cli.core.errors import InputError
from vnn_cli.video.ffmpeg import ffmpeg_exe
from vnn_cli.video.images import read_image, write_image
from vnn_cli.video.probe import _describe, probe
from vnn_cli.video.reader import VideoReader
from vnn_cli.video.sequences import frame_numbers, numbering_times, recorded_rate


def ffmpeg(*args: str | Path) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-v", "error", "-y", *map(str, args)], check=True)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix == ".png")


# ---- rotated phone videos ----------------------------------------------------------------------

@pytest.mark.parametrize("rotation", ["display 90", "display -90", "display 180", "rotate tag 90"])
def test_rotated_video_is_read_and_written_as_it_is_shown(vnn, tmp_path, rotation):
    clip = write_clip(tmp_path / "clip.mp4", moving_frames(8, width=64, height=48), 25)
    rotated = tmp_path / "rot.mp4"
    degrees = rotation.split()[-1]
    if rotation.startswith("display"):  # how phones store it: a display matrix, the picture as shot
        ffmpeg("-display_rotation", degrees, "-i", clip, "-c", "copy", rotated)
    else:  # the old tag; the bundled ffmpeg may drop it, and then the video is simply not turned
        ffmpeg("-i", clip, "-c", "copy", "-metadata:s:v:0", f"rotate={degrees}", rotated)
    # What a player shows, decoded by ffmpeg on its own into images of the shown size.
    ffmpeg("-i", rotated, tmp_path / "shown_%03d.png")
    shown = [read_image(p) for p in sorted(tmp_path.glob("shown_*.png"))]
    assert len(shown) == 8

    info = probe(rotated)
    assert (info.height, info.width) == shown[0].shape[:2]
    decoded = list(VideoReader(rotated))
    assert min(psnr(a, b) for a, b in zip(decoded, shown)) > 40

    out = tmp_path / "out.mp4"
    result = vnn("interpolate", rotated, "-m", "blend", "-o", out)
    assert result.code == 0, result
    made = list(VideoReader(out))
    assert made[0].shape == shown[0].shape and probe(out).rotation == 0  # upright pixels, no turn left to do
    # A re-encode of random colour texture in 4:2:0 costs a few dB; a scrambled frame scores below 10.
    assert min(psnr(made[2 * k], shown[k]) for k in range(8)) > 28


# ---- gaps in an image sequence's numbering --------------------------------------------------

@pytest.mark.parametrize("given", ["pattern", "folder"])
def test_gap_in_numbering_is_followed_as_missing_frames(vnn, tmp_path, given):
    frames = moving_frames(12)
    seq = tmp_path / "seq"
    seq.mkdir()
    present = [1, 2, 3, 4, 9, 10, 11, 12]  # frames 5 to 8 were lost
    for n in present:
        write_image(seq / f"frame_{n:04d}.png", frames[n - 1])
    source = seq / "frame_%04d.png" if given == "pattern" else seq
    result = vnn("interpolate", source, "-m", "blend", "--input-fps", "10", "--scene-threshold", "0", "--fallback", "never",
                 "-o", tmp_path / "out")
    assert result.code == 0, result
    assert "4 frames missing (5-8)" in result.out
    made = images(tmp_path / "out")
    # 12 frames' worth of time at 10 fps, at 20 fps: frame n sits at output 2(n-1), each as it was.
    assert len(made) == 24
    for n in present:
        assert (read_image(made[2 * (n - 1)]) == frames[n - 1]).all(), n
    # The missing stretch is filled in between frames 4 and 9, not skipped.
    # Frame 4 is output 6 and frame 9 output 16: output 8 is 2/10 of the way from one to the other.
    expected = frames[3].astype(np.float64) * 0.8 + frames[8].astype(np.float64) * 0.2
    assert np.abs(read_image(made[8]) - expected).max() <= 1


def test_start_number_still_starts_a_pattern_there(vnn, tmp_path):
    seq = tmp_path / "seq"
    seq.mkdir()
    for n in (1, 2, 3, 7, 8, 9):
        write_image(seq / f"f_{n}.png", moving_frames(9)[n - 1])
    result = vnn("interpolate", seq / "f_%d.png", "--start-number", "7", "-m", "blend", "-o", tmp_path / "out")
    assert result.code == 0, result
    assert len(images(tmp_path / "out")) == 5  # 7, 8, 9 and the two between
    assert "missing" not in result.out


# ---- images that declare a huge size ------------------------------------------------------------

def bomb_png(path: Path, width: int, height: int) -> Path:
    """A valid gray PNG of zeros, `width`×`height` declared, under a megabyte on disk (`height` a
    multiple of 100): the same compressed block repeated, each standing alone after a full flush."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"\0" * ((width + 1) * 100)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflate.compress(rows) + deflate.flush(zlib.Z_FULL_FLUSH)
    last = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    adler = ((len(rows) * (height // 100)) % 65521) << 16 | 1  # adler32 of that many zeros
    stream = b"\x78\xda" + block * (height // 100) + last + struct.pack(">I", adler)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", stream) + chunk(b"IEND", b""))
    return path


def test_small_png_declaring_a_huge_size_is_refused_before_decoding(vnn, tmp_path):
    bomb = bomb_png(tmp_path / "bomb.png", 30000, 30000)
    assert bomb.stat().st_size < 1_000_000
    started = time.perf_counter()
    with pytest.raises(InputError, match="30000x30000 is not supported"):
        read_image(bomb)
    assert time.perf_counter() - started < 2  # the header only: 900 M pixels were never decoded

    seq = tmp_path / "seq"
    seq.mkdir()
    write_image(seq / "000000.png", moving_frames(1)[0])
    bomb_png(seq / "000001.png", 30000, 30000)
    for args in (["interpolate", seq, "-o", tmp_path / "out.mp4"], ["interpolate", bomb, seq / "000000.png", "-o", tmp_path / "out.png"]):
        result = vnn(*args, "-m", "blend")
        assert result.code == 1, result
        assert "30000x30000 is not supported" in result.err and len(result.err.strip().splitlines()) == 1, result


def test_bomb_check_accepts_ordinary_images(tmp_path):
    small = bomb_png(tmp_path / "small.png", 300, 200)
    assert read_image(small).shape == (200, 300)


# ---- a stray image in a batch folder ----------------------------------------------------------

def test_stray_image_in_a_folder_of_videos_is_left_out_with_a_warning(vnn, tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    write_clip(videos / "a.mp4", moving_frames(4), 25)
    write_clip(videos / "b.mp4", moving_frames(5), 25)
    write_image(videos / "thumb.jpg", moving_frames(1)[0])
    result = vnn("interpolate", videos, "-m", "blend", "-o", tmp_path / "out")
    assert result.code == 0, result
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.mp4", "b.mp4"]
    assert "warning" in result.err and "thumb.jpg" in result.err and "ignored" in result.err


# ---- output containers --------------------------------------------------------------------------

def streams(path: Path) -> list[str]:
    return [line.strip() for line in _describe(path).splitlines() if re.search(r"Stream #\S+.*: (Video|Audio):", line)]


@pytest.mark.parametrize("suffix, video, pix_fmt, audio", [
    (".webm", "vp9", "yuv420p", "opus"),
    (".mkv", "h264", "yuv420p", "aac"),
    (".mov", "h264", "yuv420p", "aac"),
    (".avi", "h264", "yuv420p", "mp3"),
])
def test_each_container_gets_codecs_it_holds_and_players_play(vnn, clip, tmp_path, suffix, video, pix_fmt, audio):
    out = tmp_path / f"out{suffix}"
    result = vnn("interpolate", clip, "-m", "blend", "-o", out)
    assert result.code == 0, result
    found = streams(out)
    assert re.search(rf"Video: {video}\b.*\b{pix_fmt}\b", found[0]), found
    assert len(found) == 2 and f"Audio: {audio}" in found[1], found
    assert len(list(VideoReader(out))) == 23


def test_webm_without_audio_is_yuv420_not_rgb(vnn, tmp_path):
    clip = write_clip(tmp_path / "quiet.mp4", moving_frames(6), 25)
    out = tmp_path / "out.webm"
    assert vnn("interpolate", clip, "-m", "blend", "-o", out).code == 0
    assert probe(out).pix_fmt == "yuv420p"


def test_gif_output_has_a_palette_and_says_the_sound_is_left_out(vnn, clip, tmp_path):
    out = tmp_path / "out.gif"
    result = vnn("interpolate", clip, "-m", "blend", "-o", out)
    assert result.code == 0, result
    assert "Video: gif" in streams(out)[0] and len(streams(out)) == 1
    assert "holds no sound" in result.err
    made = list(VideoReader(out))
    assert len(made) == 23
    expected = list(VideoReader(clip))
    assert psnr(made[0], expected[0]) > 25  # a palette per frame keeps the picture


@pytest.mark.parametrize("suffix, codec, words", [
    (".webm", "libx264", "WebM holds VP8, VP9 or AV1"),
    (".gif", "libx264", "GIF holds only GIF frames"),
    (".mp4", "libx246", "not an encoder of the bundled ffmpeg; did you mean libx265, libx264"),
    (".xyz", None, "'.xyz' is not a video format vnn writes"),
])
def test_unsupported_container_or_codec_is_one_clear_line(vnn, clip, tmp_path, suffix, codec, words):
    out = tmp_path / f"out{suffix}"
    result = vnn("interpolate", clip, "-m", "blend", *(["--codec", codec] if codec else []), "-o", out)
    assert result.code == 1, result
    assert words in result.err and len(result.err.strip().splitlines()) == 1, result
    assert not out.exists()


# ---- frame rate of image sequences ---------------------------------------------------------------

def test_sequence_written_by_vnn_keeps_its_rate_when_read_back(vnn, clip, tmp_path):
    frames = tmp_path / "frames"
    assert vnn("interpolate", clip, "-m", "blend", "-o", frames).code == 0  # 25 fps in, 50 fps out
    assert all(recorded_rate(p) == 50 for p in images(frames))
    assert sorted(p.suffix for p in frames.iterdir()) == [".png"] * 23  # nothing but the frames
    result = vnn("interpolate", frames, "-m", "blend", "-o", tmp_path / "back.mp4")
    assert result.code == 0, result
    assert probe(tmp_path / "back.mp4").fps == 100
    assert "50 fps, as vnn recorded in its frames" in result.out


def test_jpeg_frames_record_their_rate_too(vnn, clip, tmp_path):
    pattern = tmp_path / "jpegs" / "f_%03d.jpg"
    assert vnn("slowmo", clip, "-m", "blend", "--fps", "30", "-o", pattern).code == 0
    first = tmp_path / "jpegs" / "f_000.jpg"
    assert recorded_rate(first) == 30 and read_image(first).shape == (48, 64, 3)
    result = vnn("interpolate", pattern, "-m", "blend", "-o", tmp_path / "back.mp4")
    assert result.code == 0, result
    assert probe(tmp_path / "back.mp4").fps == 60


def test_input_fps_sets_an_image_sequence_rate(vnn, tmp_path):
    seq = tmp_path / "seq"
    seq.mkdir()
    for i, frame in enumerate(moving_frames(5)):
        write_image(seq / f"{i:03d}.png", frame)
    result = vnn("slowmo", seq, "-m", "blend", "--input-fps", "30000/1001", "-o", tmp_path / "slow.mp4")
    assert result.code == 0, result
    assert probe(tmp_path / "slow.mp4").fps == Fraction(30000, 1001)
    result = vnn("interpolate", seq, "-m", "blend", "-o", tmp_path / "default.mp4")
    assert probe(tmp_path / "default.mp4").fps == 48
    assert "24 fps, the default: give --input-fps" in result.out


def test_extracted_frames_record_their_rate(vnn, clip, tmp_path):
    assert vnn("extract", clip, "--every", "2", "-o", tmp_path / "frames").code == 0
    assert recorded_rate(tmp_path / "frames" / "000000.png") == Fraction(25, 2)
    result = vnn("interpolate", tmp_path / "frames", "-m", "blend", "-o", tmp_path / "out.mp4")
    assert result.code == 0, result
    assert probe(tmp_path / "out.mp4").fps == 25


def test_input_fps_on_a_video_is_said_to_change_nothing(vnn, clip, tmp_path):
    result = vnn("interpolate", clip, "-m", "blend", "--input-fps", "30", "-o", tmp_path / "out.mp4")
    assert result.code == 0, result
    assert probe(tmp_path / "out.mp4").fps == 50
    assert "--input-fps is for image sequences" in result.out


def test_numbering_step_is_one_frame_and_gaps_are_counted_in_steps():
    assert numbering_times([0, 10, 20, 30], Fraction(24)) == (None, "")  # every 10th frame, none missing
    times, note = numbering_times([0, 10, 40, 50], Fraction(10))
    assert times.times == [0, Fraction(1, 10), Fraction(4, 10), Fraction(5, 10)] and times.end == Fraction(6, 10)
    assert "2 frames missing (20-30)" in note
    assert frame_numbers(["a_9.png", "a_10.png", "b_11.png"]) is None  # not one sequence's names


def test_a_gap_of_millions_is_not_followed(vnn, tmp_path):
    # 1, 2, 1000000: a stray file or numbers that are timestamps, not 999997 lost frames to render.
    assert numbering_times([1, 2, 3, 1_000_000], Fraction(24))[0] is None
    assert numbering_times([1, 2, 3, 30], Fraction(24))[0] is not None  # 26 lost beside 4: followed
    seq = tmp_path / "seq"
    seq.mkdir()
    frames = moving_frames(3)
    for n, frame in zip((1, 2, 1_000_000), frames):
        write_image(seq / f"frame_{n:07d}.png", frame)
    result = vnn("interpolate", seq, "-m", "blend", "--input-fps", "10", "-o", tmp_path / "out")
    assert result.code == 0, result
    assert "taken as consecutive frames" in result.out
    assert len(images(tmp_path / "out")) == 5  # three frames at twice the rate, not two million


# ---- a per cent sign in a file name ------------------------------------------------------------

def test_an_existing_file_with_a_percent_d_in_its_name_is_a_file_not_a_pattern(vnn, tmp_path):
    clip = write_clip(tmp_path / "pct%d.mp4", moving_frames(6), 25)
    result = vnn("interpolate", clip, "-m", "blend", "-o", tmp_path / "out%d.mp4")
    assert result.code == 0, result
    assert probe(tmp_path / "out%d.mp4").fps == 50
    slow = vnn("slowmo", clip, "-m", "blend")  # the default output beside it, `%` and all
    assert slow.code == 0, slow
    assert (tmp_path / "pct%d_slowmo2x.mp4").is_file()
    # A pattern of images is still a pattern.
    seq = tmp_path / "seq"
    seq.mkdir()
    for n, frame in enumerate(moving_frames(3)):
        write_image(seq / f"f_{n}.png", frame)
    assert vnn("interpolate", seq / "f_%d.png", "-m", "blend", "-o", tmp_path / "made" / "g_%d.png").code == 0
    assert len(images(tmp_path / "made")) == 5
