"""The picture survives a run as the source stores it: its pixel aspect (anamorphic video), its
alpha plane, its chroma subsampling; an interlaced source is named as such, and deinterlaced on
request (issue 18, items 4, 7, 8 and 14).

Every source is generated in the test with the bundled ffmpeg (64x48, a few frames); outputs are
checked in `ffmpeg -i`'s own text and, for alpha, by decoding the output's alpha plane."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import moving_frames
from vnn_cli.video.ffmpeg import ffmpeg_exe
from vnn_cli.video.images import read_image, write_image

W, H = 64, 48


def ffmpeg(*args: str | Path) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-v", "error", "-y", *map(str, args)], check=True)


def stream_line(path: Path, decoder: str | None = None) -> str:
    """The video stream's line of `ffmpeg -i` (the text vnn's prober reads, too), with its metadata."""
    before = ["-c:v", decoder] if decoder else []
    text = subprocess.run([ffmpeg_exe(), "-hide_banner", *before, "-i", str(path)], capture_output=True, text=True).stderr
    return re.search(r"Stream #\S+.*?: Video: .*?(?=\n\s*Stream #|\Z)", text, re.S)[0]


def alphas(path: Path, decoder: str | None = None) -> np.ndarray:
    """Every frame's alpha plane (8 bits) as ffmpeg decodes the file; 255 where it has none."""
    before = ["-c:v", decoder] if decoder else []
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", *before, "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgba", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W, 4)[..., 3]


def rgba_frames(n: int = 4) -> list[np.ndarray]:
    """Moving colour with an alpha ramp that moves too: every frame's alpha is its own."""
    ramp = np.linspace(0, 255, W)[None, :].repeat(H, 0)
    return [np.dstack([frame, np.clip(ramp + 20 * i, 0, 255).astype(np.uint8)]) for i, frame in enumerate(moving_frames(n))]


def png_sequence(folder: Path, frames: list[np.ndarray]) -> Path:
    folder.mkdir()
    for i, frame in enumerate(frames):
        write_image(folder / f"f{i:03d}.png", frame)
    return folder


def interpolate(vnn, source: Path, out: Path, *options: str):
    result = vnn("interpolate", source, "-m", "blend", "--crf", "10", "-o", out, *options)
    assert result.code == 0, result
    return result


# 4. Anamorphic video: a DVD-style 16:9 picture stored 4:3 with wide pixels (SAR 4:3).

def display_aspect(path: Path) -> float:
    dar = re.search(r"DAR (\d+):(\d+)", stream_line(path))
    return int(dar[1]) / int(dar[2])


@pytest.mark.parametrize("name", ["out.mp4", "out.mov", "out.mkv", "out.webm", "out.gif"])
def test_anamorphic_source_keeps_its_pixel_aspect(vnn, tmp_path, name):
    """Before: `[SAR 1:1 DAR 4:3]`: the 16:9 picture played squeezed to 4:3."""
    source = tmp_path / "dvd.mp4"
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=s={W}x{H}:r=10:d=0.4", "-vf", "setsar=4/3", "-c:v", "libx264", "-pix_fmt", "yuv420p", source)
    assert "SAR 4:3 DAR 16:9" in stream_line(source)
    out = tmp_path / name
    interpolate(vnn, source, out)
    if name in ("out.webm", "out.gif"):  # Matroska stores the display size in whole pixels (85x48 for 64x48
        # at 4:3), GIF the pixel aspect in 64ths (85:64)
        assert display_aspect(out) == pytest.approx(16 / 9, rel=0.01)
    else:
        assert "SAR 4:3 DAR 16:9" in stream_line(out)


# 7. Alpha: carried from video inputs (ProRes 4444, VP9 in WebM) and image sequences into the
# outputs that hold it; a warning where the output cannot.

def _prores_4444(tmp_path: Path) -> Path:
    frames = png_sequence(tmp_path / "rgba", rgba_frames())
    source = tmp_path / "alpha.mov"
    ffmpeg("-framerate", "10", "-i", frames / "f%03d.png", "-c:v", "prores_ks", "-profile:v", "4444",
           "-pix_fmt", "yuva444p10le", source)
    return source


def _vp9_alpha(tmp_path: Path) -> Path:
    frames = png_sequence(tmp_path / "rgba", rgba_frames())
    source = tmp_path / "alpha.webm"
    ffmpeg("-framerate", "10", "-i", frames / "f%03d.png", "-c:v", "libvpx-vp9", "-pix_fmt", "yuva420p", "-crf", "10",
           "-b:v", "0", source)
    return source


def _assert_alpha_kept(out_alpha: np.ndarray, source_alpha: np.ndarray, tolerance: float) -> None:
    """The output (factor 2) shows source frame k at 2k, each with its own alpha."""
    assert len(out_alpha) == 2 * len(source_alpha) - 1
    kept = out_alpha[::2].astype(np.int16)
    difference = np.abs(kept - source_alpha.astype(np.int16))
    assert difference.mean() < tolerance, difference.mean()
    assert out_alpha.min() < 40  # the transparent edge is there (no alpha decodes as 255 throughout)


def test_prores_4444_alpha_survives(vnn, tmp_path):
    """Before: the output was yuv444p10le (ProRes HQ... 4444 without alpha): alpha 255 everywhere."""
    source = _prores_4444(tmp_path)
    assert "yuva444p" in stream_line(source)
    out = tmp_path / "out.mov"
    interpolate(vnn, source, out, "--codec", "prores_ks")
    assert "yuva444p" in stream_line(out)
    _assert_alpha_kept(alphas(out), alphas(source), 1.0)


def test_vp9_alpha_in_webm_survives(vnn, tmp_path):
    """Before: decoded by ffmpeg's own VP9 decoder, which drops the alpha plane; written yuv420p."""
    source = _vp9_alpha(tmp_path)
    assert "alpha_mode      : 1" in stream_line(source)
    out = tmp_path / "out.webm"
    interpolate(vnn, source, out)
    line = stream_line(out, decoder="libvpx-vp9")
    assert "alpha_mode      : 1" in line and "yuva420p" in line
    _assert_alpha_kept(alphas(out, "libvpx-vp9"), alphas(source, "libvpx-vp9"), 3.0)


def test_png_sequence_alpha_into_prores(vnn, tmp_path):
    """Before: the frames reached the encoder as RGB: `--codec prores_ks` wrote no alpha."""
    frames = rgba_frames()
    folder = png_sequence(tmp_path / "rgba", frames)
    out = tmp_path / "out.mov"
    interpolate(vnn, folder, out, "--codec", "prores_ks", "--input-fps", "10")
    assert "yuva444p" in stream_line(out)
    _assert_alpha_kept(alphas(out), np.stack([f[..., 3] for f in frames]), 1.0)


def test_alpha_video_into_an_image_sequence(vnn, tmp_path):
    """Before: the reader decoded RGB only: the PNG frames had no alpha."""
    source = _prores_4444(tmp_path)
    out = tmp_path / "frames"
    interpolate(vnn, source, out)
    written = [read_image(p) for p in sorted(out.glob("*.png"))]
    assert written[0].shape[2] == 4
    source_alpha = alphas(source)
    for k, alpha in enumerate(source_alpha):
        frame = written[2 * k][..., 3]
        frame = frame // 257 if frame.dtype == np.uint16 else frame  # ProRes is 12-bit: a 16-bit sequence
        assert np.abs(frame.astype(np.int16) - alpha).mean() < 1.0


def test_alpha_into_an_output_without_it_is_a_warning(vnn, tmp_path):
    folder = png_sequence(tmp_path / "rgba", rgba_frames())
    out = tmp_path / "out.mp4"
    result = interpolate(vnn, folder, out, "--input-fps", "10")
    warnings = [line for line in result.err.splitlines() if line.startswith("vnn: warning:") and "alpha" in line]
    assert len(warnings) == 1, result.err
    assert "libx264" in warnings[0]


# 8. Chroma subsampling: 4:2:2 and 4:4:4 stay so where the encoder takes them, else a warning.

@pytest.mark.parametrize("pix_fmt", ["yuv422p", "yuv444p", "yuv422p10le"])
def test_chroma_subsampling_is_kept(vnn, tmp_path, pix_fmt):
    """Before: every one came out yuv420p (or yuv420p10le)."""
    source = tmp_path / "in.mp4"
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=s={W}x{H}:r=10:d=0.4", "-c:v", "libx264", "-pix_fmt", pix_fmt, source)
    out = tmp_path / "out.mp4"
    interpolate(vnn, source, out)
    assert f", {pix_fmt}(" in stream_line(out)


def test_chroma_the_encoder_lacks_is_a_warning(vnn, tmp_path):
    source = tmp_path / "in.mp4"
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=s={W}x{H}:r=10:d=0.4", "-c:v", "libx264", "-pix_fmt", "yuv422p", source)
    out = tmp_path / "out.mpg"
    result = interpolate(vnn, source, out, "--codec", "mpeg1video")
    assert ", yuv420p(" in stream_line(out)
    assert re.search(r"vnn: warning: .*4:2:2.*4:2:0", result.err), result.err


# 14. Interlaced sources: said in one line; --deinterlace (bwdif) makes frames of the fields first.

def _interlaced(tmp_path: Path, order: str) -> Path:
    """Two moments a frame, one in each field (as a camera records them): a box's moving edges comb."""
    source = tmp_path / f"{order}.mp4"
    mode = "interleave_top" if order == "tff" else "interleave_bottom"
    graph = (f"color=c=gray:s={W}x{H}:r=20:d=0.8[bg];color=c=white:s=16x32:r=20:d=0.8[box];"
             f"[bg][box]overlay=x='4+t*50':y=8,tinterlace=mode={mode},setfield={order}[out0]")
    ffmpeg("-f", "lavfi", "-i", graph,
           "-flags", "+ilme+ildct", "-c:v", "libx264", "-crf", "4", "-pix_fmt", "yuv420p", *(["-x264opts", "bff=1"] if order == "bff" else []),
           source)
    return source


def combing(path: Path) -> float:
    """Mean vertical second difference of the luma: large where alternate lines differ (combs)."""
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                         capture_output=True, check=True).stdout
    luma = np.frombuffer(raw, np.uint8).reshape(-1, H, W).astype(np.float32)
    return float(np.abs(2 * luma[:, 1:-1] - luma[:, :-2] - luma[:, 2:]).mean())


@pytest.mark.parametrize("order, words", [("tff", "top field first"), ("bff", "bottom field first")])
def test_interlaced_source_is_named_in_one_line(vnn, tmp_path, order, words):
    """Before: nothing said; the fields were interpolated as frames."""
    source = _interlaced(tmp_path, order)
    assert ("top first" if order == "tff" else "bottom first") in stream_line(source)
    result = interpolate(vnn, source, tmp_path / "out.mp4")
    lines = [line for line in result.err.splitlines() if "interlaced" in line]
    assert len(lines) == 1 and lines[0].startswith("vnn: warning:") and words in lines[0], result.err
    assert "--deinterlace" in lines[0]


def test_deinterlace_makes_frames_of_the_fields(vnn, tmp_path):
    """Before: no such option (usage error)."""
    source = _interlaced(tmp_path, "tff")
    plain, clean = tmp_path / "plain.mp4", tmp_path / "clean.mp4"
    interpolate(vnn, source, plain)
    result = interpolate(vnn, source, clean, "--deinterlace")
    assert "vnn: warning:" not in result.err, result.err
    assert "deinterlaced" in result.out
    assert "progressive" in stream_line(clean)
    assert combing(clean) < 0.3 * combing(plain), (combing(clean), combing(plain))


def test_anamorphic_source_into_images_says_the_aspect_is_left_out(vnn, tmp_path):
    """Image files hold no pixel aspect: the frames are written as stored, and the run says so."""
    source = tmp_path / "dvd.mp4"
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=s={W}x{H}:r=10:d=0.4", "-vf", "setsar=4/3", "-c:v", "libx264", "-pix_fmt", "yuv420p", source)
    result = vnn("interpolate", source, "-m", "blend", "-o", tmp_path / "frames")
    assert result.code == 0, result
    assert "hold no pixel aspect" in result.err and "SAR 4:3 left out" in result.err, result.err
