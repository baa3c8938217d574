"""The one output guard, tried for real through the CLI: no command writes over an input (under any
spelling) or over an earlier result without --overwrite; a sequence appears under its name whole or
not at all (a signal while it is published, a full disk half way through, an overwrite of a longer
run); and what a killed run left is swept by the next one into the same folder.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from conftest import moving_frames, write_clip
from test_bad_input import assert_clean_failure, snapshot
from test_signals import SLOW_PLUGIN, Run
from vnn_cli.core.atomic import TEMP_MARK, temp_name
from vnn_cli.video.images import read_image, write_image

FAST_BENCH = ("--methods", "blend", "--sizes", "none", "--no-e2e", "--frames", "5")
TINY_TRAIN = ("-m", "unet", "--model-param", "widths=[8,16]", "--model-param", "convs_per_level=1", "--steps", "1",
              "--batch-size", "2", "--crop", "32", "--val-frames", "5", "--device", "cpu", "--no-amp")


@pytest.fixture
def clip(work: Path) -> Path:
    return write_clip(work / "clip.mp4", moving_frames(8), 25)


def numbered_images(folder: Path, count: int, name: str = "frame_%04d.png", first: int = 1) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(moving_frames(count)):
        write_image(folder / (name % (first + i)), frame)
    return folder


def temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if TEMP_MARK in p.name or ".vnn-partial" in p.name]


def dead_pid() -> int:
    """The id of a process that has just ended (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# --- item 1: an output is never an input -------------------------------------------------------------

@pytest.mark.parametrize("option", ["--json", "--csv", "--markdown", "--plot"])
def test_bench_report_onto_the_input_video_is_refused(vnn, work, clip, option):
    (work / "link.json").symlink_to(clip.name)
    before = snapshot(work)
    for spelling in (clip, work / "link.json", work / "." / ".." / "work" / "clip.mp4"):
        for extra in ((), ("--overwrite",)):
            result = vnn("bench", clip, *FAST_BENCH, option, spelling, *extra)
            assert_clean_failure(result, work, before, "is the input")


def test_bench_report_relative_to_the_current_folder_is_refused(vnn, work, clip, monkeypatch):
    monkeypatch.chdir(work)
    before = snapshot(work)
    result = vnn("bench", "clip.mp4", *FAST_BENCH, "--json", "./clip.mp4", "--overwrite")
    assert_clean_failure(result, work, before, "is the input")


def test_bench_report_replaces_an_existing_file_only_with_overwrite(vnn, work, clip):
    report = work / "r.json"
    report.write_text("an earlier report")
    before = snapshot(work)
    result = vnn("bench", clip, *FAST_BENCH, "--json", report)
    assert_clean_failure(result, work, before, "exists; use --overwrite")
    result = vnn("bench", clip, *FAST_BENCH, "--json", report, "--overwrite")
    assert result.code == 0, result
    assert report.read_text().startswith("{")


def test_bench_examples_folder_that_holds_the_input_is_refused(vnn, work, clip):
    # --examples replaces its folder whole: a folder holding the clip would take the clip with it.
    before = snapshot(work)
    result = vnn("bench", clip, *FAST_BENCH, "--examples", work, "--overwrite")
    assert_clean_failure(result, work, before, "would overwrite the input")


def test_train_export_onto_a_training_video_is_refused_before_training(vnn, work):
    data = write_clip(work / "train.mp4", moving_frames(10, seed=1), 25)
    val = write_clip(work / "val.mp4", moving_frames(8, seed=2), 25)
    (work / "link.safetensors").symlink_to(data.name)
    before = snapshot(work)
    for target in (data, val, work / "link.safetensors"):
        for extra in ((), ("--overwrite",)):
            result = vnn("train", *TINY_TRAIN, "--data", data, "--val", val, "--run-dir", work / "run",
                         "--export", target, *extra)
            assert_clean_failure(result, work, before, "is the input")
    assert not (work / "run").exists(), "training ran before the export was refused"


def test_train_export_over_existing_weights_needs_overwrite(vnn, work):
    data = write_clip(work / "train.mp4", moving_frames(10, seed=1), 25)
    val = write_clip(work / "val.mp4", moving_frames(8, seed=2), 25)
    weights = work / "w.safetensors"
    weights.write_bytes(b"earlier weights")
    before = snapshot(work)
    result = vnn("train", *TINY_TRAIN, "--data", data, "--val", val, "--run-dir", work / "run", "--export", weights)
    assert_clean_failure(result, work, before, "exists; use --overwrite")


@pytest.mark.parametrize("spelling", ["same", "dotted", "symlinked folder", "relative"])
def test_interpolate_pattern_onto_its_input_frames_is_refused(vnn, work, monkeypatch, spelling):
    seq = numbered_images(work / "seq", 6)  # frame_0001 ... frame_0006: no frame_0000 to trip over
    (work / "alias").symlink_to("seq")
    output = {"same": seq / "frame_%04d.png", "dotted": work / "seq" / ".." / "seq" / "frame_%04d.png",
              "symlinked folder": work / "alias" / "frame_%04d.png", "relative": Path("seq/frame_%04d.png")}[spelling]
    monkeypatch.chdir(work)
    before = snapshot(work)
    for extra in ((), ("--overwrite",)):
        result = vnn("interpolate", seq / "frame_%04d.png", "-m", "blend", "-o", output, *extra)
        assert_clean_failure(result, work, before, "would overwrite the input")


def test_interpolate_pattern_beside_its_input_frames_is_fine(vnn, work):
    seq = numbered_images(work / "seq", 4)
    result = vnn("interpolate", seq / "frame_%04d.png", "-m", "blend", "-o", seq / "smooth_%04d.png")
    assert result.code == 0, result
    assert len(list(seq.glob("smooth_*.png"))) == 7 and len(list(seq.glob("frame_*.png"))) == 4


def test_extract_audio_onto_the_video_through_a_symlink_is_refused(vnn, work):
    clip = write_clip(work / "clip.mp4", moving_frames(8), 25, audio=True)
    (work / "sound.wav").symlink_to(clip.name)
    before = snapshot(work)
    result = vnn("extract", clip, "--audio", work / "sound.wav", "--overwrite")
    assert_clean_failure(result, work, before, "is the input")


# --- item 5: a sequence appears whole or not at all --------------------------------------------------

@pytest.mark.parametrize("how", ["interpolate folder", "interpolate pattern", "extract folder"])
def test_overwrite_of_a_longer_sequence_leaves_no_stale_frame(vnn, work, how):
    long_clip = write_clip(work / "long.mp4", moving_frames(12), 25)
    short_clip = write_clip(work / "short.mp4", moving_frames(5, seed=4), 25)
    out = work / "frames"
    command = "extract" if how.startswith("extract") else "interpolate"
    target = out / "f_%05d.png" if how.endswith("pattern") else out
    extra = () if command == "extract" else ("-m", "blend")
    assert vnn(command, long_clip, *extra, "-o", target).code == 0
    (out / "notes.txt").write_text("the user's own file")
    result = vnn(command, short_clip, *extra, "-o", target, "--overwrite")
    assert result.code == 0, result
    frames = sorted(p.name for p in out.glob("*.png"))
    assert len(frames) == (5 if command == "extract" else 9), frames  # none of the 12- or 23-frame run left
    assert (out / "notes.txt").read_text() == "the user's own file"
    assert not temporaries(work)


# A real process, stopped by a real SIGTERM at the worst moment: right after the first rename that
# publishes the sequence under its final name.
_SIGNAL_WHILE_PUBLISHING = textwrap.dedent('''
    import os, signal, sys
    final = os.path.realpath(sys.argv[1])
    fired = []

    def hooked(real):
        def move(src, dst, *args, **kwargs):
            real(src, dst, *args, **kwargs)
            target = os.path.realpath(dst)
            if not fired and final in (target, os.path.dirname(target)):
                fired.append(dst)
                os.kill(os.getpid(), signal.SIGTERM)
        return move

    os.rename, os.replace = hooked(os.rename), hooked(os.replace)
    from vnn_cli.cli.app import main
    main(sys.argv[2:])
''')


@pytest.mark.slow  # a real subprocess
@pytest.mark.parametrize("existing", [False, True], ids=["new folder", "overwrite of a longer run"])
def test_signal_while_a_sequence_is_published(work, existing):
    clip = write_clip(work / "clip.mp4", moving_frames(10), 25)
    out = work / "frames"
    if existing:
        numbered_images(out, 30, "%06d.png", first=0)
    script = work / "publish.py"
    script.write_text(_SIGNAL_WHILE_PUBLISHING)
    proc = subprocess.run([sys.executable, script, out, "interpolate", clip, "-m", "blend", "-o", out,
                           *(("--overwrite",) if existing else ())], cwd=work, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "XDG_CONFIG_HOME": str(work / "no-config")})
    assert proc.returncode == 143, proc.stderr
    # Held until the sequence was in place, then obeyed: complete, or (had it come earlier) absent.
    names = sorted(p.name for p in out.glob("*.png"))
    assert names == [f"{i:06d}.png" for i in range(19)], names
    assert read_image(out / "000018.png").shape == (48, 64, 3)
    assert not temporaries(work)


@pytest.mark.parametrize("as_folder", [True, False], ids=["folder", "numbered names"])
def test_full_disk_during_the_inbetweens_of_a_pair_leaves_nothing(vnn, work, as_folder):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    a, b = moving_frames(2)
    write_image(work / "a.png", a)
    write_image(work / "b.png", b)
    if as_folder:
        out = work / "mid"
        temp = out.with_name(f".{out.name}{TEMP_MARK}-{os.getpid()}")
        temp.mkdir()
        (temp / "000003.png").symlink_to("/dev/full")  # the fourth of five frames hits a full disk
    else:
        out = work / "mid.png"
        temp_name(work / "mid_3.png").symlink_to("/dev/full")  # the third of three
    before = {k: v for k, v in snapshot(work).items() if TEMP_MARK not in k}
    result = vnn("interpolate", work / "a.png", work / "b.png", "-m", "blend", "--times", "0.25,0.5,0.75", "-o", out)
    assert_clean_failure(result, work, before, "no space left on the device")


def test_full_disk_on_a_small_tmpfs_during_a_pair(vnn, work):
    from test_bad_input import tmpfs

    rng = np.random.default_rng(5)
    for name in ("a.png", "b.png"):  # noise: every in-between about 37 kB, the five need about 180 kB
        write_image(work / name, rng.integers(0, 256, (96, 128, 3), dtype=np.uint8))
    with tmpfs(work / "small", "size=128k") as small:
        before = snapshot(work)
        result = vnn("interpolate", work / "a.png", work / "b.png", "-m", "blend", "--count", "3", "-o", small / "mid")
        assert_clean_failure(result, work, before, "no space left on the device")
        assert not list(small.iterdir())


# --- item 10: what SIGKILL leaves, the next run sweeps; SIGHUP stops like SIGTERM --------------------

@pytest.mark.slow  # a real subprocess
def test_temporaries_of_a_killed_run_are_swept_by_the_next(vnn, work):
    (work / "slow.py").write_text(SLOW_PLUGIN)
    clip = write_clip(work / "clip.mp4", moving_frames(30), 25)
    run = Run(work, "interpolate", clip, "-m", "slow-blend", "--plugins", "slow.py", "-o", work / "out.mp4")
    run.wait_for(lambda: run.marker.exists() and temporaries(work), "the output was half written")
    run.proc.send_signal(signal.SIGKILL)
    run.proc.communicate(timeout=60)
    left = temporaries(work)
    assert left and all(str(run.proc.pid) in p.name for p in left), left  # SIGKILL: nothing could clean up
    # Stand-ins for what other runs leave: a live process's file must stay; a folder set aside by a
    # swap killed half way comes back under its name.
    live = work / f".busy{TEMP_MARK}-1.mp4"
    live.write_bytes(b"pid 1 is alive")
    dead = dead_pid()
    (work / f".crops{TEMP_MARK}-old-{dead}").mkdir()
    (work / f".crops{TEMP_MARK}-old-{dead}" / "kept.png").write_bytes(b"old crop")

    result = vnn("interpolate", clip, "-m", "blend", "-o", work / "other.mp4")
    assert result.code == 0, result
    assert sorted(p.name for p in temporaries(work)) == [live.name]
    assert (work / "crops" / "kept.png").read_bytes() == b"old crop"


@pytest.mark.slow  # a real subprocess
def test_sighup_stops_like_sigterm(work):
    (work / "slow.py").write_text(SLOW_PLUGIN)
    clip = write_clip(work / "clip.mp4", moving_frames(30), 25, audio=True)
    run = Run(work, "interpolate", clip, "-m", "slow-blend", "--plugins", "slow.py", "-o", work / "out.mp4")
    run.wait_for(lambda: run.marker.exists() and temporaries(work), "the output was half written")
    code, err, seconds = run.interrupt(signal.SIGHUP)
    assert code == 129, err
    assert err.strip().splitlines() == ["vnn: error: interrupted by SIGHUP"], err
    assert not temporaries(work) and not (work / "out.mp4").exists()
