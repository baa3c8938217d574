"""10/12/16-bit video keeps its precision: decoded as 16-bit RGB, carried through the model as
16-bit frames, written as 16-bit images or a 10-bit video; 8-bit video is untouched."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import moving_frames, write_clip
from vnn_cli.video.ffmpeg import ffmpeg_exe
from vnn_cli.video.images import read_image
from vnn_cli.video.probe import pix_fmt_bits, probe, stream_pix_fmt
from vnn_cli.video.reader import VideoReader
from vnn_cli.video.writer import deep_pix_fmt

WIDTH, HEIGHT, FRAMES = 64, 48, 6


def smooth_frames(n: int = FRAMES) -> list[np.ndarray]:
    """16-bit frames: smooth gradients in every channel (far more than 256 levels) and a square
    moving right by 2 pixels a frame, so the pairs carry real motion."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float64)
    base = np.stack([0.15 + 0.7 * x / (WIDTH - 1), 0.2 + 0.6 * y / (HEIGHT - 1),
                     0.3 + 0.2 * (x / (WIDTH - 1)) * (y / (HEIGHT - 1))], axis=2)
    frames = []
    for i in range(n):
        frame = base.copy()
        frame[16:26, 4 + 2 * i : 14 + 2 * i] = (0.9, 0.85, 0.2)
        frames.append(np.rint(frame * 65535).astype(np.uint16))
    return frames


def encode_10bit(path: Path, frames: list[np.ndarray]) -> Path:
    """FFV1 (lossless) 10-bit 4:4:4 in Matroska, fed 16-bit RGB by the bundled ffmpeg."""
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb48le", "-s", f"{WIDTH}x{HEIGHT}",
           "-framerate", "25", "-i", "-", "-c:v", "ffv1", "-pix_fmt", "yuv444p10le", str(path)]
    subprocess.run(cmd, input=b"".join(f.astype("<u2").tobytes() for f in frames), check=True)
    return path


@pytest.fixture(scope="module")
def clip10(tmp_path_factory) -> Path:
    return encode_10bit(tmp_path_factory.mktemp("deep") / "gradient10.mkv", smooth_frames())


def levels(frames) -> int:
    return len(np.unique(np.concatenate([np.ravel(f) for f in frames])))


def test_pixel_format_and_depth_read_from_ffmpeg_description():
    line = ("  Stream #0:0[0x1](und): Video: h264 (High 10) (avc1 / 0x31637661), yuv420p10le(tv, progressive), "
            "64x48 [SAR 1:1 DAR 4:3], 131 kb/s, 25 fps, 25 tbr, 12800 tbn (default)")
    assert stream_pix_fmt(line) == "yuv420p10le"
    assert stream_pix_fmt("  Stream #0:0: Video: rawvideo (RGB[48] / 0x30424752), rgb48le, 64x48, 25 fps") == "rgb48le"
    assert [pix_fmt_bits(f) for f in ("yuv420p", "rgb24", "yuv420p10le", "yuv422p12le", "rgb48le", "p010le", "gray")] == \
        [8, 8, 10, 12, 16, 10, 8]


def test_reader_gives_16_bit_frames_with_real_precision(clip10):
    info = probe(clip10)
    assert (info.pix_fmt, info.bits) == ("yuv444p10le", 10)
    deep = list(VideoReader(clip10, depth="source"))
    assert len(deep) == FRAMES
    assert deep[0].dtype == np.uint16 and deep[0].shape == (HEIGHT, WIDTH, 3)
    assert np.any(deep[0] % 257 != 0)  # not 8-bit values scaled up
    assert levels(deep[:1]) > 256
    # Closer to the 16-bit truth than any 8-bit decode can be.
    truth = smooth_frames()[0].astype(np.float64)
    shallow = list(VideoReader(clip10))  # the default stays 8-bit, for the benchmark and training
    assert shallow[0].dtype == np.uint8
    error_deep = np.abs(deep[0] - truth).mean()
    error_shallow = np.abs(shallow[0].astype(np.float64) * 257 - truth).mean()
    assert error_deep < error_shallow / 3, (error_deep, error_shallow)


def test_interpolate_to_png_writes_16_bit_frames(vnn, clip10, tmp_path):
    folder = tmp_path / "frames"
    result = vnn("interpolate", clip10, "-m", "blend", "-o", f"{folder}/")
    assert result.code == 0, result
    files = sorted(folder.glob("*.png"))
    assert len(files) == 2 * FRAMES - 1
    source = list(VideoReader(clip10, depth="source"))
    made = read_image(files[1])  # synthesized, between input frames 0 and 1
    assert made.dtype == np.uint16 and levels([made]) > 256
    assert np.any(made % 257 != 0)
    assert np.array_equal(read_image(files[2]), source[1])  # input frames pass through exactly


def test_interpolate_to_jpeg_stays_8_bit(vnn, clip10, tmp_path):
    folder = tmp_path / "jpegs"
    result = vnn("interpolate", clip10, "-m", "blend", "--image-format", "jpg", "-o", f"{folder}/")
    assert result.code == 0, result
    assert read_image(sorted(folder.glob("*.jpg"))[1]).dtype == np.uint8


def test_interpolate_to_video_encodes_10_bit(vnn, clip10, tmp_path):
    out = tmp_path / "out.mp4"
    result = vnn("interpolate", clip10, "-m", "dis", "-o", out)
    assert result.code == 0, result
    info = probe(out)
    expected = deep_pix_fmt("libx264", WIDTH, HEIGHT)
    if expected is None:  # an ffmpeg whose x264 is 8-bit only: falls back to 8 bits
        assert info.pix_fmt == "yuv420p"
        return
    assert (info.pix_fmt, info.bits) == ("yuv444p10le", 10)  # the source's 4:4:4 kept (see test_picture_format)
    frames = list(VideoReader(out, depth="source"))
    assert len(frames) == 2 * FRAMES - 1
    assert frames[1].dtype == np.uint16 and levels(frames[1:2]) > 256


def test_encoder_limited_to_8_bits_falls_back(vnn, clip10, tmp_path):
    out = tmp_path / "out.mp4"
    result = vnn("interpolate", clip10, "-m", "blend", "--codec", "mpeg4", "-o", out)
    assert result.code == 0, result
    assert probe(out).bits == 8
    assert len(list(VideoReader(out))) == 2 * FRAMES - 1


def test_8_bit_source_stays_8_bit(vnn, tmp_path):
    clip = write_clip(tmp_path / "clip8.mp4", moving_frames(FRAMES))
    assert probe(clip).bits == 8
    assert next(iter(VideoReader(clip, depth="source"))).dtype == np.uint8
    out, folder = tmp_path / "out.mp4", tmp_path / "frames"
    assert vnn("interpolate", clip, "-m", "blend", "-o", out).code == 0
    assert probe(out).pix_fmt == "yuv420p"
    assert vnn("interpolate", clip, "-m", "blend", "-o", f"{folder}/").code == 0
    assert read_image(sorted(folder.glob("*.png"))[1]).dtype == np.uint8


def test_depth_8_gives_8_bit_outputs_from_a_deep_source(vnn, clip10, tmp_path):
    """`--depth 8`: a video that plays everywhere, and 8-bit images, from a 10-bit source."""
    out, folder = tmp_path / "out.mp4", tmp_path / "frames"
    assert vnn("interpolate", clip10, "-m", "blend", "--depth", "8", "-o", out).code == 0
    assert probe(out).pix_fmt == "yuv420p"
    assert vnn("interpolate", clip10, "-m", "blend", "--depth", "8", "-o", f"{folder}/").code == 0
    made = [read_image(p) for p in sorted(folder.glob("*.png"))]
    assert len(made) == 2 * FRAMES - 1 and all(f.dtype == np.uint8 for f in made)


def test_depth_8_turns_16_bit_images_into_8_bit_ones(vnn, tmp_path):
    from vnn_cli.video.images import write_image

    source = tmp_path / "deep"
    source.mkdir()
    for i, frame in enumerate(smooth_frames(3)):
        write_image(source / f"f{i}.png", frame)
    folder = tmp_path / "out"
    assert vnn("interpolate", source, "-m", "blend", "--depth", "8", "-o", f"{folder}/").code == 0
    made = [read_image(p) for p in sorted(folder.glob("*.png"))]
    assert len(made) == 5 and all(f.dtype == np.uint8 for f in made)
    assert np.abs(made[0].astype(int) - np.rint(smooth_frames(1)[0] / 257)).max() <= 1
