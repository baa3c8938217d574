"""`--cluster` (issue 17 items 2-4) on a real local Ray instance, two workers, no mocks: the joined
output is the single-machine run frame for frame (FFV1, lossless), a worker process killed with
SIGKILL mid-range costs nothing, an interrupted job resumes from its finished parts, and without
Ray the option says how to install it in one line."""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import moving_frames, write_clip
from vnn_cli.core.errors import Interrupted, OutputError
from vnn_cli.core.settings import InterpolateSettings, RuntimeSettings
from vnn_cli.render.cluster import (ClusterAddress, Executor, Range, check_storage, parts_folder, plan_ranges,
                                    run_clip, scene_cuts_near)
from vnn_cli.render.job import Workflow, interpolate_video
from vnn_cli.render.outputs import EncodeOptions
from vnn_cli.render.pipeline import build_interpolator
from vnn_cli.video.reader import VideoReader

LOSSLESS = EncodeOptions(codec="ffv1")


def frames_of(path: Path) -> list[np.ndarray]:
    return list(VideoReader(path))


def same_frames(a: Path, b: Path) -> None:
    left, right = frames_of(a), frames_of(b)
    assert len(left) == len(right)
    assert all(np.array_equal(x, y) for x, y in zip(left, right))


def single_run(clip: Path, output: Path, section: InterpolateSettings) -> Path:
    interpolator = build_interpolator(RuntimeSettings(device="cpu"), section)
    interpolate_video(clip, output, interpolator, options=LOSSLESS)
    return output


def two_shots(n: int, width: int, height: int) -> list[np.ndarray]:
    """A scene cut halfway: two textures, a square moving over each."""
    half = n // 2
    return moving_frames(half, width, height, seed=0) + moving_frames(n - half, width, height, seed=7)


# ---- planning, storage: no Ray needed --------------------------------------------------------------

def test_ranges_cover_the_clip_once_and_move_to_nearby_cuts():
    plain = plan_ranges(100, 30)
    assert [(r.first, r.last) for r in plain] == [(0, 29), (30, 59), (60, 89), (90, None)]
    moved = plan_ranges(100, 30, cuts=[33, 70])  # 33 is within 10% of 30; 70 is not near 60
    assert [(r.first, r.last) for r in moved] == [(0, 32), (33, 62), (63, 92), (93, None)]
    assert [r.first for r in plan_ranges(100, 1000, workers=4)] == [0, 25, 50, 75]  # every worker busy
    assert [r.first for r in plan_ranges(100, None, workers=2)] == [0, 50]  # the default: a range per worker
    assert plan_ranges(0, 30) == [Range(0, None)]  # an unknown length: one open range


def test_scene_cuts_near_a_boundary_follow_the_safeguards_rule(tmp_path):
    clip = write_clip(tmp_path / "cut.mp4", two_shots(40, 64, 48))
    assert scene_cuts_near(clip, [18], 3, 0.25) == [20]
    assert scene_cuts_near(clip, [10], 3, 0.25) == []


def test_a_node_that_cannot_write_the_parts_is_named(tmp_path):
    clip = write_clip(tmp_path / "c.mp4", moving_frames(4))
    with pytest.raises(OutputError, match=r"^node n1 \(10\.0\.0\.1\) cannot write .*missing.* every node sees$"):
        check_storage(clip, tmp_path / "missing", "n1 (10.0.0.1)")


def test_without_ray_the_option_says_how_to_install_it(vnn, work, monkeypatch):
    clip = write_clip(work / "c.mp4", moving_frames(4))
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError, as where it is not installed
    result = vnn("interpolate", clip, "-o", "out.mp4", "--cluster", "local:2")
    assert result.code == 2
    assert result.err.strip() == "vnn: error: --cluster needs Ray, an optional extra: pip install 'vnn[cluster]'"


# ---- a real local Ray instance -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def ray_local():
    """One local Ray instance with two CPUs for the module's jobs (they join it rather than start one)."""
    ray = pytest.importorskip("ray")
    import logging

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_two_workers_give_the_single_machine_frames(vnn, work, ray_local):
    clip = write_clip(work / "cut.mp4", two_shots(40, 64, 48), audio=True)
    single_run(clip, work / "single.mkv", InterpolateSettings(preset="fast"))
    (work / "vnn.toml").write_text('[cluster]\naddress = "local:2"\nrange_frames = 19\n')  # boundary 19 moves to the cut at 20
    result = vnn("interpolate", clip, "--preset", "fast", "--codec", "ffv1", "-o", "out.mkv", "--progress", "json")
    assert result.code == 0, result
    assert "79 frames" in result.out and "2 workers on 1 node" in result.out
    same_frames(work / "single.mkv", work / "out.mkv")
    assert VideoReader(work / "out.mkv").info.has_audio
    assert json.loads(result.err.strip().splitlines()[-1])["frames"] == 79  # the progress, as a local run's
    assert not parts_folder(work / "out.mkv").exists()  # joined: the parts are gone
    assert sorted(p.name for p in work.iterdir()) == ["cut.mp4", "out.mkv", "single.mkv", "vnn.toml"]


def _range_workers() -> list[int]:
    """The worker processes running a range now, as `ps` shows them (Ray titles them by the task)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().startswith(b"ray::RangeWorker.run"):
                found.append(int(entry.name))
        except OSError:
            pass
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the worker process in /proc")
def test_a_worker_killed_mid_range_loses_and_doubles_nothing(work, ray_local):
    clip = write_clip(work / "long.mp4", two_shots(48, 320, 180))
    section = InterpolateSettings(preset="fast")
    single_run(clip, work / "single.mkv", section)
    output = work / "out.mkv"
    killed: list[int] = []
    finals_after_kill: list[str] = []

    def progress(done: int, total: int | None) -> None:
        if killed or done < 4:
            return
        pids = _range_workers()
        if pids:  # a real process, a real kill, mid-range
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])
            time.sleep(0.2)
            finals_after_kill.extend(p.name for p in parts_folder(output).glob("part_*"))

    result = run_clip(Executor(ClusterAddress.parse("local:2"), range_frames=24), clip, output,
                      RuntimeSettings(device="cpu"), section, options=LOSSLESS, workflow=Workflow(), progress=progress)
    assert killed, "no range was running to kill"
    assert result.retried >= 1
    assert len(finals_after_kill) <= 1  # the killed worker's range had no part under its final name
    same_frames(work / "single.mkv", output)


@pytest.mark.slow
def test_an_interrupted_job_resumes_from_its_finished_parts(work, ray_local):
    clip = write_clip(work / "clip.mp4", two_shots(48, 160, 90))
    section = InterpolateSettings(preset="fast")
    single_run(clip, work / "single.mkv", section)
    output = work / "out.mkv"
    folder = parts_folder(output)
    executor = Executor(ClusterAddress.parse("local:2"), range_frames=12)  # four ranges, two workers

    def interrupt_after_a_part(done: int, total: int | None) -> None:
        if list(folder.glob("part_*.mkv")):
            raise KeyboardInterrupt  # as Ctrl-C raises it in the driver

    with pytest.raises(Interrupted, match=r"SIGINT; \d finished part\(s\) kept in .*; the same command resumes"):
        run_clip(executor, clip, output, RuntimeSettings(device="cpu"), section, options=LOSSLESS,
                 workflow=Workflow(), progress=interrupt_after_a_part)
    finished = sorted(p.name for p in folder.glob("part_*.mkv"))
    assert 1 <= len(finished) < 4 and not output.exists()
    assert set(json.loads((folder / "job.json").read_text())["done"]) <= set(finished)

    result = run_clip(executor, clip, output, RuntimeSettings(device="cpu"), section, options=LOSSLESS,
                      workflow=Workflow())
    assert result.resumed == len(finished) and result.parts == 4
    same_frames(work / "single.mkv", output)


@pytest.mark.slow
def test_a_folder_batch_runs_one_task_per_file(vnn, work, ray_local):
    (work / "clips").mkdir()
    for seed in (1, 2):
        write_clip(work / "clips" / f"c{seed}.mp4", moving_frames(8, seed=seed))
    assert vnn("interpolate", "clips", "-o", "here", "--progress", "none").code == 0
    result = vnn("interpolate", "clips", "-o", "there", "--cluster", "local:2", "--progress", "none")
    assert result.code == 0, result
    assert "2 outputs" in result.out
    for name in ("c1.mp4", "c2.mp4"):
        same_frames(work / "here" / name, work / "there" / name)
    assert sorted(p.name for p in (work / "there").iterdir()) == ["c1.mp4", "c2.mp4"]  # no temporaries left
    again = vnn("interpolate", "clips", "-o", "there", "--cluster", "local:2", "--progress", "none")
    assert again.code == 0 and "resumed: 2 outputs" in again.out, again


@pytest.mark.slow
def test_a_folder_of_frames_is_the_single_runs_png_for_png(vnn, work, ray_local):
    clip = write_clip(work / "cut.mp4", two_shots(30, 64, 48))
    assert vnn("interpolate", clip, "--preset", "fast", "-o", "here", "--progress", "none").code == 0
    result = vnn("interpolate", clip, "--preset", "fast", "-o", "there", "--cluster", "local:2", "--progress", "none")
    assert result.code == 0, result
    here, there = sorted((work / "here").iterdir()), sorted((work / "there").iterdir())
    assert [p.name for p in here] == [p.name for p in there] and len(here) == 59
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(here, there))
