"""Colour survives a run: a source is decoded with its own matrix and range, and the output is
encoded with the same and tagged alike, so a player (which follows the tags, and guesses BT.601
below 720 lines and BT.709 from 720 up where there are none) shows the source's colours.

Every file is generated with the bundled ffmpeg; colours are compared as a player would decode
each file, on the bars of SMPTE HD colour bars."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from vnn_cli.video.colour import Colour, decode_filter, resolved
from vnn_cli.video.ffmpeg import ffmpeg_exe
from vnn_cli.video.images import write_image
from vnn_cli.video.probe import probe

BT709 = Colour("bt709", "bt709", "bt709", "tv")


def make_bars(path: Path, width: int, height: int, matrix: str, tags: str | None, pix_fmt: str = "yuv420p") -> Path:
    """Two seconds of colour bars converted to YUV with `matrix`, tagged with `tags` (setparams
    options) or not at all."""
    # the scale filter tags the matrix it converted with: untagged means tags taken off again
    chain = f"scale=out_color_matrix={matrix}:out_range=tv,setparams={tags or 'colorspace=unknown:range=unknown'}"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"smptehdbars=s={width}x{height}:d=0.4:r=10",
                    "-vf", chain, "-pix_fmt", pix_fmt, "-c:v", "libx264", "-crf", "4", str(path)], check=True)
    return path


def as_a_player_shows(path: Path) -> np.ndarray:
    """The first frame in RGB, decoded with the file's own tags, or a player's guess without them."""
    info = probe(path)
    colour, _ = resolved(info.colour, info.height)
    run = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-vf", f"scale={decode_filter(colour)}",
                          "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True)
    return np.frombuffer(run.stdout, np.uint8).reshape(info.height, info.width, 3)


def bars(frame: np.ndarray) -> np.ndarray:
    """The mean colour of the seven top bars (each sampled away from its edges)."""
    height, width = frame.shape[:2]
    row = frame[height // 4 - 2: height // 4 + 3].astype(np.float32)
    centres = [int(width * (0.125 + 0.75 * (i + 0.5) / 7)) for i in range(7)]
    return np.array([row[:, c - 2: c + 3].mean(axis=(0, 1)) for c in centres])


def test_bt709_source_keeps_its_colours_and_tags(vnn, tmp_path):
    """The issue's reproduction: yellow came out 188,186,0 against 191,175,0."""
    source = make_bars(tmp_path / "in.mp4", 320, 240, "bt709", "colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv")
    assert probe(source).colour == BT709
    out = tmp_path / "out.mp4"
    result = vnn("interpolate", source, "-m", "blend", "-o", out)
    assert result.code == 0, result
    assert probe(out).colour == BT709
    difference = np.abs(bars(as_a_player_shows(out)) - bars(as_a_player_shows(source)))
    assert difference.max() < 3, difference


@pytest.mark.parametrize("height, matrix, tag, name", [(720, "bt709", "bt709", "BT.709"), (240, "bt601", "smpte170m", "BT.601")])
def test_untagged_source_is_read_as_players_guess_and_the_output_tagged(vnn, tmp_path, height, matrix, tag, name):
    width = height * 4 // 3
    source = make_bars(tmp_path / "in.mp4", width, height, matrix, None)
    assert not probe(source).colour.tagged
    out = tmp_path / "out.mp4"
    result = vnn("interpolate", source, "-m", "blend", "-o", out)
    assert result.code == 0, result
    assert f"read as {name}" in result.err + result.out
    assert probe(out).colour.matrix == tag
    difference = np.abs(bars(as_a_player_shows(out)) - bars(as_a_player_shows(source)))
    assert difference.max() < 3, difference


def test_hdr10_tags_survive(vnn, tmp_path):
    source = make_bars(tmp_path / "hdr.mp4", 320, 240, "bt2020",
                       "colorspace=bt2020nc:color_primaries=bt2020:color_trc=smpte2084:range=tv", pix_fmt="yuv420p10le")
    out = tmp_path / "out.mp4"
    result = vnn("interpolate", source, "-m", "blend", "-o", out)
    assert result.code == 0, result
    assert probe(out).colour == Colour("bt2020nc", "bt2020", "smpte2084", "tv")
    assert probe(out).bits == 10


def test_images_become_bt709_video_with_srgb_transfer(vnn, tmp_path):
    rng = np.random.default_rng(0)
    colours = rng.integers(0, 256, (6, 3))
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(3):
        frame = np.zeros((96, 128, 3), np.uint8)
        for k, colour in enumerate(colours):
            frame[:, k * 21: (k + 1) * 21] = colour
        write_image(frames / f"{i:04d}.png", frame)
    out = tmp_path / "out.mp4"
    result = vnn("interpolate", frames / "%04d.png", "--input-fps", "10", "-m", "blend", "-o", out)
    assert result.code == 0, result
    assert probe(out).colour == Colour("bt709", "bt709", "iec61966-2-1", "tv")
    shown = as_a_player_shows(out).astype(np.float32)
    for k, colour in enumerate(colours):
        assert np.abs(shown[40:56, k * 21 + 6: k * 21 + 15].mean(axis=(0, 1)) - colour).max() < 4


MASTERING = "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)"


@pytest.fixture
def hdr10_source(tmp_path) -> Path:
    """A PQ/BT.2020 HEVC clip with HDR10 mastering-display and content-light metadata."""
    path = tmp_path / "hdr10.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "smptehdbars=s=128x96:d=0.4:r=10",
                    "-vf", "scale=out_color_matrix=bt2020:out_range=tv,"
                           "setparams=colorspace=bt2020nc:color_primaries=bt2020:color_trc=smpte2084:range=tv",
                    "-pix_fmt", "yuv420p10le", "-c:v", "libx265",
                    "-x265-params", f"hdr10=1:master-display={MASTERING}:max-cll=1000,400:log-level=error", str(path)],
                   check=True)
    return path


def test_hdr10_mastering_metadata_survives_into_hevc(vnn, tmp_path, hdr10_source):
    source = probe(hdr10_source).colour
    assert (source.mastering_display, source.content_light) == (MASTERING, "1000,400")
    out = tmp_path / "out.mp4"
    result = vnn("interpolate", hdr10_source, "-m", "blend", "--codec", "libx265", "-o", out)
    assert result.code == 0, result
    assert probe(out).colour == source


def test_hdr10_metadata_an_encoder_cannot_hold_is_named(vnn, tmp_path, hdr10_source):
    out = tmp_path / "out.mp4"
    result = vnn("interpolate", hdr10_source, "-m", "blend", "-o", out)  # libx264: tags yes, mastering metadata no
    assert result.code == 0, result
    assert "cannot hold the source's HDR10 mastering-display" in result.err
    assert probe(out).colour.transfer == "smpte2084" and not probe(out).colour.hdr_metadata
