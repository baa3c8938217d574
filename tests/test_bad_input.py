"""Hostile and broken inputs, tried for real through the CLI.

Each failure must give one line on stderr (`vnn: error: ...`, no traceback unless --verbose), a
non-zero exit status, no output and no temporary file left behind, and the input untouched. The
odd-but-valid inputs (grayscale, RGBA, palette, 16-bit, odd sizes, unusual names) must work.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from conftest import moving_frames, probe_video, write_clip
from vnn_cli.core.atomic import TEMP_MARK, temp_name
from vnn_cli.video.ffmpeg import ffmpeg_exe
from vnn_cli.video.images import read_image, write_image


# --- helpers ---------------------------------------------------------------------------------------

def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under `folder` (hidden ones too) with a hash of its bytes."""
    state = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            state[key] = f"-> {os.readlink(path)}"
        elif path.is_dir():
            state[key] = "folder"
        else:
            state[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def assert_clean_failure(result, folder: Path, before: dict[str, str], message: str, code: int = 1) -> str:
    """One `vnn: error:` line holding `message`, status `code`, and `folder` exactly as it was."""
    assert result.code == code, result
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got: {result.err!r}"
    assert lines[0].startswith("vnn: error: "), lines[0]
    assert message.lower() in lines[0].lower(), lines[0]
    assert "Traceback" not in result.err
    assert snapshot(folder) == before, "an input changed or an output / temporary file was left behind"
    return lines[0]


def assert_no_temporaries(folder: Path) -> None:
    assert not [p for p in folder.rglob("*") if TEMP_MARK in p.name]


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


@contextlib.contextmanager
def tmpfs(folder: Path, options: str):
    """A real tmpfs mounted at `folder`; the test is skipped where mounting is not allowed."""
    folder.mkdir(parents=True, exist_ok=True)
    prefix: list[str] = []
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            pytest.skip("mounting a tmpfs needs root or sudo")
        prefix = ["sudo", "-n"]
        options += f",uid={os.getuid()},gid={os.getgid()}"
    mounted = subprocess.run([*prefix, "mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield folder
    finally:
        subprocess.run([*prefix, "umount", "-l", str(folder)], capture_output=True)


@pytest.fixture
def good_clip(work: Path) -> Path:
    return write_clip(work / "clip.mp4", moving_frames(8), 25)


def image_folder(folder: Path, frames: list[np.ndarray]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        write_image(folder / f"frame{i:03d}.png", frame)
    return folder


# --- broken or wrong video inputs ------------------------------------------------------------------

def test_missing_input(vnn, work):
    before = snapshot(work)
    result = vnn("interpolate", work / "nope.mp4", "-m", "blend", "-o", work / "out.mp4")
    assert_clean_failure(result, work, before, "nope.mp4: no such file")


def test_empty_file(vnn, work):
    (work / "empty.mp4").write_bytes(b"")
    before = snapshot(work)
    result = vnn("interpolate", work / "empty.mp4", "-m", "blend", "-o", work / "out.mp4")
    assert_clean_failure(result, work, before, "empty.mp4 is empty")


def test_text_file_named_mp4(vnn, work):
    (work / "notes.mp4").write_text("this is a shopping list, not a video\n")
    before = snapshot(work)
    result = vnn("interpolate", work / "notes.mp4", "-m", "blend", "-o", work / "out.mp4")
    assert_clean_failure(result, work, before, "not a video ffmpeg can read")


def test_non_video_file(vnn, work):
    (work / "notes.txt").write_text("hello\n")
    before = snapshot(work)
    result = vnn("interpolate", work / "notes.txt", "-m", "blend", "-o", work / "out.mp4")
    assert_clean_failure(result, work, before, "notes.txt")


@pytest.mark.parametrize("container", ["mp4", "mkv"])
def test_truncated_video(vnn, work, container):
    whole = write_clip(work / "clip.mp4", moving_frames(20), 25)
    if container == "mkv":
        ffmpeg("-i", str(work / "clip.mp4"), "-c", "copy", str(work / "clip.mkv"))
        whole = work / "clip.mkv"
    data = whole.read_bytes()
    truncated = work / f"truncated.{container}"
    truncated.write_bytes(data[: len(data) * 2 // 3])  # the header survives, frames are lost
    before = snapshot(work)
    result = vnn("interpolate", truncated, "-m", "blend", "-o", work / "out.mp4")
    assert_clean_failure(result, work, before, "truncated or corrupt")


def test_truncated_video_without_index(vnn, work, good_clip):
    # moov atom at the end (no faststart): cutting the file loses the index itself
    plain = work / "plain.mp4"
    ffmpeg("-i", str(good_clip), "-c", "copy", str(plain))
    plain.write_bytes(plain.read_bytes()[:-200])
    before = snapshot(work)
    result = vnn("interpolate", plain, "-m", "blend", "-o", work / "out.mp4")
    assert_clean_failure(result, work, before, "plain.mp4")


def test_zero_frame_videos(vnn, work):
    header_only = work / "zero.y4m"
    header_only.write_bytes(b"YUV4MPEG2 W64 H48 F25:1 Ip A1:1 C420jpeg\n")
    no_frames = work / "zero.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=64x48:r=25", "-frames:v", "0", "-c:v", "libx264", str(no_frames))
    before = snapshot(work)
    for path, message in ((header_only, "no video frames"), (no_frames, "no video stream")):
        result = vnn("interpolate", path, "-m", "blend", "-o", work / "out.mp4")
        assert_clean_failure(result, work, before, message)


def test_one_frame_video_needs_two(vnn, work):
    one = write_clip(work / "one.mp4", moving_frames(1), 25)
    before = snapshot(work)
    result = vnn("interpolate", one, "-m", "blend", "-o", work / "out.mp4")
    assert_clean_failure(result, work, before, "needs at least two")
    result = vnn("slowmo", one, "-m", "blend", "-o", work / "slow")
    assert_clean_failure(result, work, before, "needs at least two")


def test_audio_only_file(vnn, work):
    audio = work / "song.mp4"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=0.5", str(audio))
    before = snapshot(work)
    result = vnn("interpolate", audio, "-m", "blend", "-o", work / "out.mp4")
    assert_clean_failure(result, work, before, "has only audio")


def test_huge_declared_frame_size(vnn, work):
    # A header that promises 20000×20000 frames: refused up front, nothing allocated for it.
    huge = work / "huge.y4m"
    huge.write_bytes(b"YUV4MPEG2 W20000 H20000 F25:1 Ip A1:1 C420jpeg\nFRAME\n" + bytes(4096))
    before = snapshot(work)
    result = vnn("interpolate", huge, "-m", "blend", "-o", work / "out.mp4")
    assert_clean_failure(result, work, before, "frame size 20000x20000")


def test_verbose_shows_the_traceback(vnn, work):
    (work / "notes.mp4").write_text("not a video\n")
    result = vnn("interpolate", work / "notes.mp4", "-m", "blend", "-o", work / "out.mp4", "--verbose")
    assert result.code == 1 and "Traceback" in result.err and "vnn: error:" in result.err
    result = vnn("interpolate", work / "notes.mp4", "-m", "blend", "-o", work / "out.mp4")
    assert "Traceback" not in result.err  # --verbose does not stick to the next run


# --- folders and images ------------------------------------------------------------------------------

def test_folder_with_no_images(vnn, work):
    (work / "empty dir").mkdir()
    (work / "empty dir" / "readme.txt").write_text("no pictures here")
    before = snapshot(work)
    result = vnn("interpolate", work / "empty dir", "-m", "blend", "-o", work / "out")
    assert_clean_failure(result, work, before, "no videos or images")


def test_images_of_mixed_sizes(vnn, work):
    frames = moving_frames(5)
    frames[3] = cv2.resize(frames[3], (32, 24))
    image_folder(work / "seq", frames)
    before = snapshot(work)
    result = vnn("interpolate", work / "seq", "-m", "blend", "-o", work / "out")
    line = assert_clean_failure(result, work, before, "frame003.png")
    assert "32x24" in line and "64x48" in line


def test_two_images_of_different_sizes(vnn, work):
    a, b = moving_frames(2)
    write_image(work / "a.png", a)
    write_image(work / "b.png", cv2.resize(b, (32, 24)))
    before = snapshot(work)
    result = vnn("interpolate", work / "a.png", work / "b.png", "-m", "blend", "-o", work / "mid.png")
    assert_clean_failure(result, work, before, "differ in size")


def _as_mode(frame: np.ndarray, mode: str) -> np.ndarray:
    if mode == "gray":
        return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    if mode == "rgba":
        return np.dstack([frame, np.full(frame.shape[:2], 180, np.uint8)])
    if mode == "rgb16":
        return frame.astype(np.uint16) * 257
    if mode == "gray16":
        return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.uint16) * 257
    return frame


@pytest.mark.parametrize("mode, shape, dtype", [
    ("gray", (48, 64), np.uint8), ("rgba", (48, 64, 4), np.uint8),
    ("rgb16", (48, 64, 3), np.uint16), ("gray16", (48, 64), np.uint16),
])
def test_image_sequences_of_every_pixel_format_work(vnn, work, mode, shape, dtype):
    frames = [_as_mode(f, mode) for f in moving_frames(4)]
    image_folder(work / "seq", frames)
    before = snapshot(work / "seq")
    result = vnn("interpolate", work / "seq", "-m", "blend", "-o", work / "out")
    assert result.code == 0, result
    made = sorted((work / "out").iterdir())
    assert len(made) == 7
    middle = read_image(made[1])
    assert middle.shape == shape and middle.dtype == dtype
    assert (read_image(made[2]) == frames[1]).all()  # inputs pass through bit-exact
    # blend of two 16-bit frames keeps 16-bit precision (not a uint8 round trip)
    if dtype == np.uint16:
        assert (middle % 257 != 0).any() or (frames[0] % 257 == 0).all()
    assert snapshot(work / "seq") == before
    assert_no_temporaries(work)


def test_palette_images_work(vnn, work):
    folder = work / "pal"
    folder.mkdir()
    for i, frame in enumerate(moving_frames(3)):
        Image.fromarray(frame).convert("P", palette=Image.ADAPTIVE, colors=16).save(folder / f"{i}.png")
    result = vnn("interpolate", folder / "0.png", folder / "1.png", "-m", "blend", "-o", work / "mid.png")
    assert result.code == 0, result
    assert read_image(work / "mid.png").shape == (48, 64, 3)
    result = vnn("interpolate", folder, "-m", "blend", "-o", work / "out")
    assert result.code == 0, result
    assert len(list((work / "out").iterdir())) == 5


def test_two_images_in_gray_rgba_and_16_bit(vnn, work):
    a, b = moving_frames(2)
    for mode in ("gray", "rgba", "rgb16"):
        write_image(work / f"a_{mode}.png", _as_mode(a, mode))
        write_image(work / f"b_{mode}.png", _as_mode(b, mode))
        out = work / f"mid_{mode}.png"
        result = vnn("interpolate", work / f"a_{mode}.png", work / f"b_{mode}.png", "-m", "blend", "-o", out)
        assert result.code == 0, result
        made, expected = read_image(out), _as_mode(a, mode)
        assert made.shape == expected.shape and made.dtype == expected.dtype


def test_odd_width_and_height_are_kept(vnn, work):
    clip = write_clip(work / "odd.mp4", moving_frames(6, width=63, height=47), 25)
    result = vnn("interpolate", clip, "-m", "blend", "-o", work / "out.mp4")
    assert result.code == 0, result
    assert probe_video(work / "out.mp4")["size"] == (63, 47)
    assert probe_video(work / "out.mp4")["frames"] == 11


def test_paths_with_spaces_and_non_ascii(vnn, work):
    folder = work / "mes vidéos ünïcode 日本"
    folder.mkdir()
    clip = write_clip(folder / "clip été -1.mp4", moving_frames(6), 25)
    out = folder / "sortie à 60 fps.mp4"
    result = vnn("interpolate", clip, "-m", "blend", "-o", out)
    assert result.code == 0, result
    assert probe_video(out)["frames"] == 11
    frames = image_folder(folder / "images é", moving_frames(3))
    result = vnn("interpolate", frames, "-m", "blend", "-o", folder / "sortie images")
    assert result.code == 0, result
    assert len(list((folder / "sortie images").iterdir())) == 5
    # a name that starts with a dash is a file, not an ffmpeg option
    dash = write_clip(work / "-dash.mp4", moving_frames(4), 25)
    result = vnn("interpolate", dash, "-m", "blend", "-o", work / "-out.mp4")
    assert result.code == 0, result


# --- outputs that must not be written ----------------------------------------------------------------

def test_existing_output_is_never_overwritten_without_flag(vnn, work, good_clip):
    out = work / "out.mp4"
    out.write_bytes(b"precious earlier result")
    before = snapshot(work)
    result = vnn("interpolate", good_clip, "-m", "blend", "-o", out)
    assert_clean_failure(result, work, before, "exists; use --overwrite")
    result = vnn("interpolate", good_clip, "-m", "blend", "-o", out, "--overwrite")
    assert result.code == 0, result
    assert probe_video(out)["frames"] == 15


def test_existing_output_folder_is_never_overwritten_without_flag(vnn, work, good_clip):
    (work / "frames").mkdir()
    (work / "frames" / "000000.png").write_bytes(b"earlier")
    before = snapshot(work)
    result = vnn("interpolate", good_clip, "-m", "blend", "-o", work / "frames")
    assert_clean_failure(result, work, before, "exists")


def test_input_and_output_naming_the_same_file(vnn, work, good_clip):
    before = snapshot(work)
    for extra in ((), ("--overwrite",)):
        result = vnn("interpolate", good_clip, "-m", "blend", "-o", good_clip, *extra)
        assert_clean_failure(result, work, before, "is the input")
    # the same file under another spelling
    result = vnn("interpolate", good_clip, "-m", "blend", "-o", work / "." / ".." / "work" / "clip.mp4", "--overwrite")
    assert_clean_failure(result, work, before, "is the input")


def test_output_under_a_file_is_refused(vnn, work, good_clip):
    # Works for root too: no permission bit can make a file into a folder.
    (work / "blocker").write_text("I am a file")
    before = snapshot(work)
    result = vnn("interpolate", good_clip, "-m", "blend", "-o", work / "blocker" / "out.mp4")
    assert_clean_failure(result, work, before, "blocker")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to a chmod-ed folder anyway; see the read-only mount test")
def test_output_folder_without_write_permission(vnn, work, good_clip):
    locked = work / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        before = snapshot(work)
        result = vnn("interpolate", good_clip, "-m", "blend", "-o", locked / "out.mp4")
        assert_clean_failure(result, work, before, "permission denied")
    finally:
        locked.chmod(0o755)


def test_output_folder_on_a_read_only_mount(vnn, work, good_clip):
    with tmpfs(work / "ro", "ro,size=64k") as readonly:
        before = snapshot(work)
        for output in (readonly / "out.mp4", readonly / "frames"):
            result = vnn("interpolate", good_clip, "-m", "blend", "-o", output)
            assert_clean_failure(result, work, before, "read-only file system")


# --- running out of disk space ------------------------------------------------------------------------

def _noisy_clip(path: Path, n: int = 10) -> Path:
    rng = np.random.default_rng(3)
    frames = [rng.integers(0, 256, (96, 128, 3), dtype=np.uint8) for _ in range(n)]
    return write_clip(path, frames, 25, crf=0)


def test_disk_full_on_a_small_tmpfs(vnn, work):
    clip = _noisy_clip(work / "noise.mp4")
    with tmpfs(work / "small", "size=128k") as small:  # the output needs about 350 kB
        before = snapshot(work)
        for output, extra in ((small / "out.mp4", ("--crf", "0")), (small / "frames", ())):
            result = vnn("interpolate", clip, "-m", "blend", "-o", output, *extra)
            assert_clean_failure(result, work, before, "no space left on the device")
        assert not list(small.iterdir())


def test_disk_full_through_a_failing_writer(vnn, work, good_clip):
    # Always runs, no privileges: the temporary file the encoder writes is /dev/full, which fails
    # every write with ENOSPC exactly as a full disk does.
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    out = work / "out.mp4"
    temp_name(out).symlink_to("/dev/full")
    before = snapshot(work)
    del before[temp_name(out).name]  # the stand-in for the full disk is removed with the temp file
    result = vnn("interpolate", good_clip, "-m", "blend", "-o", out)
    assert_clean_failure(result, work, before, "out.mp4: no space left on the device")


def test_disk_full_writing_images(work):
    from vnn_cli.core.errors import OutputError
    from vnn_cli.video.media import image_sink

    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    out = work / "frames"
    temp = out.with_name(f".{out.name}{TEMP_MARK}-{os.getpid()}")
    temp.mkdir()
    (temp / "000002.png").symlink_to("/dev/full")  # the third frame hits a full disk
    with pytest.raises(OutputError, match="no space left on the device"):
        with image_sink(out) as write:
            for frame in moving_frames(5):
                write(frame)
    assert not out.exists() and not temp.exists()


# --- settings ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("[interpolate]\nfactr = 4\n", "interpolate.factr"),
    ("[interpolate]\nfactor = \"four\"\n", "factor"),
    ("[interpolate]\nfactor = 1\n", "factor"),
    ("device = 3\n", "device"),
    ("[nonsense]\nx = 1\n", "nonsense"),
    ("this is = not [toml\n", "not valid TOML"),
])
def test_bad_config_files(vnn, work, good_clip, text, message):
    config = work / "vnn.toml"
    config.write_text(text)
    before = snapshot(work)
    result = vnn("interpolate", good_clip, "-m", "blend", "-o", work / "out.mp4", "--config", config)
    assert_clean_failure(result, work, before, message, code=2)


def test_missing_config_file(vnn, work, good_clip):
    before = snapshot(work)
    result = vnn("interpolate", good_clip, "-m", "blend", "-o", work / "out.mp4", "--config", work / "nope.toml")
    assert_clean_failure(result, work, before, "does not exist", code=2)


def test_unknown_model_and_missing_weights(vnn, work, good_clip):
    before = snapshot(work)
    result = vnn("interpolate", good_clip, "-m", "no-such-model", "-o", work / "out.mp4")
    assert_clean_failure(result, work, before, "unknown model 'no-such-model'")
    result = vnn("interpolate", good_clip, "-m", "unet", "--weights", work / "gone.safetensors", "-o", work / "out.mp4")
    assert_clean_failure(result, work, before, "no weights for model 'unet'")
