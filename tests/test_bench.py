"""`vnn bench` end to end on tiny generated clips: the drop-frame scores, the peers, the reports."""
import csv
import json
from fractions import Fraction

import cv2
import numpy as np
import pytest
import torch

from conftest import moving_frames, write_clip
from vnn_cli import FrameInterpolator
from vnn_cli.core import registry
from vnn_cli.core import plugins
from vnn_cli.bench import run as bench_run
from vnn_cli.bench.memory import ChildPeak, PeakMemory
from vnn_cli.bench.report import CSV_FIELDS, E2E_PEAK_HEADING, csv_rows, markdown, write_examples, write_json
from vnn_cli.bench.results import EndToEnd, Example
from vnn_cli.bench.run import check_targets
from vnn_cli.bench.splits import label_clips, not_found
from vnn_cli.bench.speed import MINTERPOLATE_E2E, Speed, Throughput, minterpolate_throughput, preset_run, trim_clip
from vnn_cli.core.errors import OutputError, UnknownNameError
from vnn_cli.eval.metrics import PSNR_CAP
from vnn_cli.core.settings import BenchSettings, resolve
from vnn_cli.video.ffmpeg import run_ffmpeg
from vnn_cli.video.reader import VideoReader

FAST = ("--sizes", "64x48", "--runs", "1", "--frames", "9")


@pytest.fixture
def clips(tmp_path):
    """A folder with a still clip (every frame the same, stored losslessly) and a moving one."""
    folder = tmp_path / "clips"
    folder.mkdir()
    write_clip(folder / "moving.mp4", moving_frames(11, speed=2), 25)
    write_clip(folder / "still.mp4", moving_frames(1) * 9, 25, crf=0)
    return folder


def _by(rows, **match):
    found = [r for r in rows if all(r.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (match, rows)
    return found[0]


def test_bench_scores_peers_and_writes_json_and_csv(vnn, clips, tmp_path):
    # `best` runs RIFE twice a pair, seconds even on 64x48: the targets need only these two.
    report, table, text = tmp_path / "r.json", tmp_path / "r.csv", tmp_path / "r.md"
    result = vnn("bench", clips, "--methods", "dup,blend,minterpolate", *FAST, "--e2e-frames", "6",
                 "--e2e-presets", "fast,balanced",
                 "--json", report, "--csv", table, "--markdown", text)
    assert result.code == 0, result
    for name in ("dup", "blend", "minterpolate", "moving.mp4", "still.mp4", "End to end", MINTERPOLATE_E2E,
                 "--preset fast", "--preset balanced end-to-end"):
        assert name in result.out

    data = json.loads(report.read_text())
    assert {"machine", "settings", "clips", "methods", "summary", "quality", "speed", "end_to_end", "targets"} <= set(data)
    assert [m["name"] for m in data["methods"]] == ["dup", "blend", "minterpolate"]
    assert {"date", "commit", "cpu", "cpu_cores", "device"} <= set(data["machine"])
    still = _by(data["clips"], name="still.mp4")
    assert still["static"] and still["scored_frames"] == 4

    quality = data["quality"]
    assert len(quality) == 6
    for row in quality:
        assert row["error"] is None, row
        assert {"psnr", "ssim", "fps", "peak_mib", "psnr_per_frame"} <= set(row)
        assert row["fps"] > 0 and 0 < row["ssim"] <= 1
    # Nothing moves: repeating a frame is exact (PSNR infinite, capped).
    assert _by(quality, clip="still.mp4", method="dup")["psnr"] == PSNR_CAP
    moving = {name: _by(quality, clip="moving.mp4", method=name)["psnr"] for name in ("dup", "blend", "minterpolate")}
    assert moving["dup"] < moving["blend"] < PSNR_CAP
    assert moving["minterpolate"] > moving["dup"]  # aligned: it predicts the dropped frame, not a neighbour

    for name in ("dup", "blend", "minterpolate"):
        speed = _by(data["speed"], method=name, size="64x48")
        assert speed["error"] is None and speed["fps"] > 0 and speed["runs"] == 1
        assert _by(data["summary"], method=name)["fps_by_size"]["64x48"] == speed["fps"]
    assert _by(data["speed"], method="minterpolate")["peak_mib"] > 1  # ffmpeg's own resident size

    e2e = data["end_to_end"]
    assert e2e is not None, data["end_to_end_note"]
    assert e2e["clip"] == "moving.mp4"
    hows = [r["what"] for r in e2e["results"]]
    assert hows == ["ffmpeg decode + encode", MINTERPOLATE_E2E, "vnn interpolate -m blend", "vnn interpolate -m dup",
                    "vnn interpolate --preset fast", "vnn interpolate --preset balanced"]
    for run in e2e["results"]:
        assert run["error"] is None, run
        assert (run["input_frames"], run["output_frames"]) == (6, 11) and run["interpolated_fps"] > 0
        # ffmpeg's rows: its whole process (tens of MiB at least); vnn's: what the job added (>= 0)
        assert run["peak_mib"] > (1 if run["what"].startswith("ffmpeg") else -1e-9), run
    rate = {r["what"]: r["interpolated_fps"] for r in e2e["results"]}
    targets = {t["name"]: t for t in data["targets"]}
    assert list(targets) == ["speed_vs_minterpolate", "pipeline_share", "e2e_fast_vs_minterpolate",
                             "e2e_balanced_vs_minterpolate"]
    for preset, required in (("fast", 3), ("balanced", 1)):
        target = targets[f"e2e_{preset}_vs_minterpolate"]
        assert target["value"] == pytest.approx(rate[f"vnn interpolate --preset {preset}"] / rate[MINTERPOLATE_E2E])
        assert target["required"] == required and target["met"] == (target["value"] >= required)

    with open(table, newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == CSV_FIELDS
        rows = list(reader)
    kinds = [r["kind"] for r in rows]
    assert kinds.count("quality") == 6 and kinds.count("speed") == 3 and kinds.count("summary") == 3
    assert kinds.count("end_to_end") == 6 and kinds.count("target") == 4
    assert float(_by(rows, kind="end_to_end", method=MINTERPOLATE_E2E)["fps"]) == pytest.approx(rate[MINTERPOLATE_E2E])
    fast = _by(rows, kind="target", method="e2e_fast_vs_minterpolate")
    assert float(fast["value"]) == pytest.approx(targets["e2e_fast_vs_minterpolate"]["value"]) and fast["required"] == "3.0"
    assert float(_by(rows, kind="quality", clip="still.mp4", method="dup")["psnr"]) == PSNR_CAP

    markdown = text.read_text()
    assert E2E_PEAK_HEADING in markdown
    assert f"| {MINTERPOLATE_E2E} | 6 → 11 |" in markdown and "| vnn interpolate --preset balanced | 6 → 11 |" in markdown
    assert "- vnn interpolate --preset fast end-to-end new frames/s / ffmpeg minterpolate's ≥ 3:" in markdown


def test_minterpolate_end_to_end_writes_twice_the_frames_it_is_timed_for(tmp_path):
    """One ffmpeg process, decode to encode: 7 frames in, 13 out at twice the rate, the inputs at
    the even places and, between them, new frames (motion-compensated, not repeats)."""
    source = moving_frames(7, speed=4)
    clip = trim_clip(source, Fraction(25), tmp_path)
    run = minterpolate_throughput(clip, len(source), tmp_path)
    written = [frame.astype(np.int16) for frame in VideoReader(tmp_path / "e2e_minterpolate.mp4")]
    assert len(written) == run.output_frames == 13
    assert run.what == MINTERPOLATE_E2E and run.seconds > 0
    assert run.interpolated_fps == pytest.approx(6 / run.seconds)
    for k, frame in enumerate(written[::2]):  # the last one too: the output ends where vnn's does
        assert np.argmin([np.abs(frame - real).mean() for real in source]) == k
    for k in range(1, 13, 2):
        before, new, after = written[k - 1 : k + 2]
        assert np.abs(new - before).max() > 60 and np.abs(new - after).max() > 60, k


def test_end_to_end_targets_come_from_the_preset_and_minterpolate_rows():
    def row(what, new_per_second):
        return Throughput(what, 25, 49, 24 / new_per_second, new_per_second, 49 / 24 * new_per_second)

    e2e = EndToEnd("clip.mp4", 1280, 720, "dup", None, [
        row("ffmpeg decode + encode", 30.0), row(MINTERPOLATE_E2E, 2.0),
        row(preset_run("fast"), 7.0), row(preset_run("balanced"), 1.5),
    ])
    targets = {t.name: t for t in check_targets([], e2e)}
    fast, balanced = targets["e2e_fast_vs_minterpolate"], targets["e2e_balanced_vs_minterpolate"]
    assert (fast.value, fast.required, fast.met) == (3.5, 3.0, True)
    assert (balanced.value, balanced.required, balanced.met) == (0.75, 1.0, False)
    assert fast.note == "7.00 vs 2.00 new frames/s on clip.mp4 (1280x720)"

    e2e.results[1] = Throughput(MINTERPOLATE_E2E, 25, 0, 0.0, None, None, error="ffmpeg minterpolate failed")
    unmeasured = {t.name: t for t in check_targets([], e2e)}["e2e_fast_vs_minterpolate"]
    assert unmeasured.value is None and unmeasured.met is None and MINTERPOLATE_E2E in unmeasured.note
    assert all(t.met is None for t in check_targets([], None))


def test_the_default_is_found_under_its_preset_name():
    # The README's run benches the default as `balanced` (not as its model `fusion`): the targets
    # must read that row, not report the default as unmeasured.
    speeds = [Speed("balanced", "1280x720", fps=0.5), Speed("minterpolate", "1280x720", fps=2.0)]
    e2e = EndToEnd("clip.mp4", 1280, 720, "balanced", 0.5, [
        Throughput(preset_run("balanced"), 25, 49, 60.0, 0.4, 0.8)])
    targets = {t.name: t for t in check_targets(speeds, e2e)}
    assert targets["speed_vs_minterpolate"].value == pytest.approx(0.25)
    assert targets["speed_vs_minterpolate"].description.startswith("balanced fps")
    assert targets["pipeline_share"].value == pytest.approx(0.8)

    # Copies at scene cuts cost the pipeline nothing: only the frames the model made count.
    e2e.results[0] = Throughput(preset_run("balanced"), 25, 49, 60.0, 0.4, 0.8, model_frames=12)
    share = {t.name: t for t in check_targets(speeds, e2e)}["pipeline_share"]
    assert share.value == pytest.approx(0.4) and "12 of 24 new frames by the model" in share.note


def test_end_to_end_runs_only_the_presets_asked_for(clips):
    assert bench_run.E2E_PRESETS == ("fast", "balanced", "best")
    plugins.load_plugins()
    settings = BenchSettings(methods=["dup"], sizes=[], runs=1, frames=9, e2e_frames=4)
    with pytest.raises(UnknownNameError, match="unknown preset 'fastest'"):
        bench_run.run_bench([clips], settings, e2e_presets=["fastest"])
    result = bench_run.run_bench([clips], settings, e2e_presets=["fast"])
    assert [r.what for r in result.end_to_end.results] == [
        "ffmpeg decode + encode", MINTERPOLATE_E2E, "vnn interpolate -m dup", "vnn interpolate --preset fast"]
    targets = {t.name: t for t in result.targets}
    assert targets["e2e_fast_vs_minterpolate"].value > 0
    assert targets["e2e_balanced_vs_minterpolate"].met is None
    assert "--preset balanced" in targets["e2e_balanced_vs_minterpolate"].note


def test_end_to_end_also_runs_at_the_sizes_asked_for(clips, tmp_path):
    # Issue 16: speed as the user pays it at several frame sizes, every row beside minterpolate.
    plugins.load_plugins()
    settings = BenchSettings(methods=["dup"], sizes=[], runs=1, frames=9, e2e_frames=4, e2e_sizes=["48x32", "96x72"])
    result = bench_run.run_bench([clips], settings, e2e_presets=["fast"])
    assert [(e.width, e.height) for e in result.end_to_end_runs][1:] == [(48, 32), (96, 72)]
    for e2e in result.end_to_end_sizes:
        assert [r.what for r in e2e.results] == [r.what for r in result.end_to_end.results]
        assert all(r.interpolated_fps for r in e2e.results), e2e.results
    write_json(tmp_path / "r.json", result)
    data = json.loads((tmp_path / "r.json").read_text())
    assert [(e["width"], e["height"]) for e in data["end_to_end_sizes"]] == [(48, 32), (96, 72)]
    rows = [r for r in csv_rows(result) if r["kind"] == "end_to_end"]
    assert {r["size"] for r in rows} == {f"{result.end_to_end.width}x{result.end_to_end.height}", "48x32", "96x72"}
    assert "End to end on" in markdown(result) and "(96×72)" in markdown(result)


class _Exploding(FrameInterpolator):
    def forward(self, frame0, frame1, t):
        raise RuntimeError("boom")


def test_methods_subset_and_a_failing_method_is_reported(vnn, clips, tmp_path, isolated_registry):
    registry.register_model("exploding")(_Exploding)
    report = tmp_path / "r.json"
    result = vnn("bench", clips, "--methods", "exploding,dup", *FAST, "--no-e2e", "--json", report)
    assert result.code == 0, result
    assert "boom" in result.out
    data = json.loads(report.read_text())
    assert [m["name"] for m in data["methods"]] == ["exploding", "dup"]
    assert {r["method"] for r in data["quality"]} == {"exploding", "dup"}
    assert all("boom" in r["error"] for r in data["quality"] if r["method"] == "exploding")
    assert all(r["error"] is None for r in data["quality"] if r["method"] == "dup")
    assert "boom" in _by(data["speed"], method="exploding")["error"]
    assert data["end_to_end"] is None


def test_unknown_method_names_the_close_one(vnn, clips):
    result = vnn("bench", clips, "--methods", "dupp", *FAST)
    assert result.code != 0
    assert "unknown method 'dupp'" in result.err and "dup" in result.err


def test_plot_markdown_and_example_crops(vnn, clips, tmp_path):
    plot, examples, table = tmp_path / "r.png", tmp_path / "examples", tmp_path / "r.md"
    result = vnn("bench", clips, "--methods", "dup,blend", *FAST, "--sizes", "none", "--no-e2e",
                 "--plot", plot, "--examples", examples, "--markdown", table)
    assert result.code == 0, result
    text = table.read_text()
    assert "| method | PSNR dB |" in text and "| still.mp4 | 64×48 | 100.00 | 100.00 |" in text
    image = cv2.imread(str(plot))
    assert image is not None and image.shape[0] > 200 and image.shape[1] > 300
    crops = sorted(p.name for p in examples.iterdir())
    assert len(crops) == 2 and crops[0].startswith("moving_frame") and crops[1].startswith("still_frame")
    crop = cv2.imread(str(examples / crops[0]))
    assert crop.shape[1] >= 3 * 64  # real | dup | blend, side by side
    assert crop.shape[0] > 48  # the frame under a label


def test_a_child_process_peak_is_its_own_not_the_bench_s(tmp_path):
    # wait4's ru_maxrss would report this process's size for an ffmpeg started from it (Linux
    # carries the high-water mark across exec): here at least the 400 MiB block below.
    block = np.ones(400 * 2**20, np.uint8)
    with ChildPeak() as peak:
        run_ffmpeg(["-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=5", "-frames:v", "5",
                    "-y", str(tmp_path / "t.mp4")], OutputError, "ffmpeg", started=peak.watch)
    del block
    if peak.mib is None:
        pytest.skip("no /proc/PID/status on this system")
    assert 1 < peak.mib < 200


def test_peak_memory_sees_an_allocation():
    with PeakMemory("cpu") as peak:
        block = np.ones(64 * 2**20, np.uint8)
        del block
    if peak.mib is None:
        pytest.skip("no resettable peak-memory counter on this system")
    assert peak.mib >= 60
    with PeakMemory("cpu") as quiet:
        torch.zeros(4)
    assert quiet.mib < 60


def test_guarded_method_repeats_a_frame_across_a_cut_instead_of_blending(vnn, tmp_path):
    """`MODEL+guard` runs the model behind the scene-cut check and the fallback judge: on a clip
    whose dropped frame starts a new shot, the guard scores better than the bare blend."""
    folder = tmp_path / "cut"
    folder.mkdir()
    # Frames 0-2 one shot, 3-8 another: the dropped frame 3 opens the second shot, as in megamind.avi.
    first = moving_frames(3, speed=2, seed=1)
    height, width = first[0].shape[:2]
    yy, xx = np.mgrid[0:height, 0:width]
    scene = np.dstack([xx * 2 + 40, yy * 3 + 30, (xx + yy) + 60]).astype(np.uint8)  # smooth ramps
    second = [np.roll(scene, i, axis=1) for i in range(6)]  # a slow pan
    write_clip(folder / "cut.mp4", first + second, 25, crf=0)
    report = tmp_path / "r.json"
    result = vnn("bench", folder, "--methods", "blend,blend+guard", "--sizes", "none", "--no-e2e", "--runs", "1",
                 "--frames", "9", "--json", report)
    assert result.code == 0, result
    quality = json.loads(report.read_text())["quality"]
    bare, guarded = (_by(quality, method=name) for name in ("blend", "blend+guard"))
    assert guarded["error"] is None
    cut_frame = 1  # the second scored frame, predicted from frames 2 and 4
    assert guarded["psnr_per_frame"][cut_frame] > bare["psnr_per_frame"][cut_frame] + 8
    # Away from the cut the guard changes nothing: it never scores a frame lower.
    assert all(g >= b - 1e-6 for g, b in zip(guarded["psnr_per_frame"], bare["psnr_per_frame"]))


def test_examples_folder_of_an_earlier_run_is_refused_or_replaced_whole(vnn, clips, tmp_path):
    examples = tmp_path / "examples"
    examples.mkdir()
    (examples / "old_run_frame9.png").write_bytes(b"crops of an earlier run")
    args = ("bench", clips, "--methods", "dup", *FAST, "--sizes", "none", "--no-e2e", "--examples", examples)

    refused = vnn(*args)
    assert refused.code == 1
    assert refused.err.strip() == f"vnn: error: output {examples} exists and is not empty; use --overwrite to replace it"
    assert [p.name for p in examples.iterdir()] == ["old_run_frame9.png"]
    assert (examples / "old_run_frame9.png").read_bytes() == b"crops of an earlier run"

    replaced = vnn(*args, "--overwrite")
    assert replaced.code == 0, replaced
    crops = sorted(p.name for p in examples.iterdir())
    assert len(crops) == 2 and crops[0].startswith("moving_frame") and crops[1].startswith("still_frame")
    assert cv2.imread(str(examples / crops[0])) is not None
    assert not list(tmp_path.glob(".examples*"))  # no temporary or set-aside folder left beside it


def test_examples_go_into_an_empty_folder_but_never_over_a_file(tmp_path):
    crop = Example("clip.mp4", 3, ["dup"], np.full((20, 30, 3), 200, np.uint8))
    made = tmp_path / "made_by_the_user"
    made.mkdir()
    assert write_examples(made, [crop]) == [made / "clip_frame003.png"]
    assert cv2.imread(str(made / "clip_frame003.png")).shape == (20, 30, 3)
    with pytest.raises(OutputError, match="not empty; use --overwrite"):
        write_examples(made, [crop])
    (tmp_path / "crops").write_text("a file")
    with pytest.raises(OutputError, match="is a file"):
        write_examples(tmp_path / "crops", [crop], overwrite=True)
    assert (tmp_path / "crops").read_text() == "a file"


# --- the tuning / validation split ---------------------------------------------------------------

QUICK = ("--methods", "blend,dup", "--sizes", "none", "--no-e2e", "--runs", "1", "--frames", "9")


@pytest.fixture
def split_clips(tmp_path):
    """Three moving clips, each with its own texture and speed, so that their scores differ; one
    bears a name of the default validation list (selfie.mp4)."""
    folder = tmp_path / "split"
    folder.mkdir()
    for seed, (name, speed) in enumerate((("ball.mp4", 2), ("selfie.mp4", 3), ("walk.mp4", 5))):
        write_clip(folder / name, moving_frames(11, speed=speed, seed=seed), 25)
    return folder


def test_validation_names_match_whole_names_or_stems():
    assert BenchSettings().validation == ["bbbtrailer.mp4", "selfie.mp4", "cubehand.mkv", "target.mkv"]
    listed = ["selfie.mp4", "target", "cubehand.mkv"]
    assert label_clips(["ball.mp4", "selfie.mp4", "target.mkv", "cubehand.mp4"], listed) == {
        "ball.mp4": "tuning", "selfie.mp4": "validation", "target.mkv": "validation", "cubehand.mp4": "tuning"}
    assert label_clips(["ball.mp4", "selfie.mov"], listed) == {"ball.mp4": None, "selfie.mov": None}  # no split
    assert label_clips(["selfie.mp4"], []) == {"selfie.mp4": None}
    assert not_found(["selfie.mp4", "target.mkv"], listed) == ["cubehand.mkv"]


def test_validation_setting_from_the_config_file_the_environment_and_the_flag(tmp_path):
    config = tmp_path / "vnn.toml"
    config.write_text('[bench]\nvalidation = ["selfie.mp4", "target"]\n')
    assert resolve("bench", {}, config, {})[1].validation == ["selfie.mp4", "target"]
    assert resolve("bench", {}, config, {"VNN_BENCH_VALIDATION": "a.mp4, b"})[1].validation == ["a.mp4", "b"]
    assert resolve("bench", {"validation": []}, config, {})[1].validation == []
    with pytest.raises(Exception, match="bench.validation"):
        resolve("bench", {"validation": ["videos/selfie.mp4"]}, None, {})  # a name, not a path


def test_bench_reports_each_split_and_its_means(vnn, split_clips, tmp_path):
    report, table, text = tmp_path / "r.json", tmp_path / "r.csv", tmp_path / "r.md"
    result = vnn("bench", split_clips, *QUICK, "--validation", "walk,absent.mp4",
                 "--json", report, "--csv", table, "--markdown", text)
    assert result.code == 0, result
    data = json.loads(report.read_text())
    expected = {"ball.mp4": "tuning", "selfie.mp4": "tuning", "walk.mp4": "validation"}
    assert {c["name"]: c["split"] for c in data["clips"]} == expected
    assert data["split"] == {"tuning": ["ball.mp4", "selfie.mp4"], "validation": ["walk.mp4"],
                             "not_found": ["absent.mp4"]}
    assert data["settings"]["validation"] == ["walk", "absent.mp4"]
    quality = data["quality"]
    assert all(row["split"] == expected[row["clip"]] for row in quality) and len(quality) == 6

    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    for method in ("blend", "dup"):
        summary = _by(data["summary"], method=method)
        for split in ("tuning", "validation"):
            clip_rows = [r for r in quality if r["method"] == method and r["split"] == split]
            mean = summary["splits"][split]
            assert mean["psnr"] == pytest.approx(np.mean([r["psnr"] for r in clip_rows]))
            assert mean["ssim"] == pytest.approx(np.mean([r["ssim"] for r in clip_rows]))
            assert mean["clips_scored"] == len(clip_rows)
            row = _by(rows, kind="summary", method=method, split=split)
            assert float(row["psnr"]) == pytest.approx(mean["psnr"]) and row["frames"] == str(len(clip_rows))
        assert summary["psnr"] == pytest.approx(np.mean([r["psnr"] for r in quality if r["method"] == method]))
        assert _by(rows, kind="summary", method=method, split="")["psnr"] == str(summary["psnr"])
    # The clips differ, so the split means differ: a mix-up of labels would show.
    blend = _by(data["summary"], method="blend")["splits"]
    assert abs(blend["tuning"]["psnr"] - blend["validation"]["psnr"]) > 0.5
    assert {r["split"] for r in rows if r["kind"] == "quality"} == {"tuning", "validation"}

    out = result.out
    assert "tuning (2 clips)" in out and "validation: never tuned on (1 clip)" in out
    assert out.index("selfie.mp4") < out.index("mean PSNR, tuning") < out.index("walk.mp4")
    assert out.index("mean SSIM, validation") < out.index("mean PSNR, all (3 clips)")
    assert f"{blend['validation']['psnr']:.2f}" in out
    assert "listed as validation but not in this run: absent.mp4" in out

    markdown = text.read_text()
    assert "| method | PSNR dB tuning (2) | SSIM tuning | PSNR dB validation: never tuned on (1) | SSIM validation " \
           "| PSNR dB all (3) | SSIM all |" in markdown
    assert f"| blend | {blend['tuning']['psnr']:.2f} |" in markdown
    assert "| clip | split | size | blend | dup |" in markdown
    assert markdown.index("| selfie.mp4 | tuning | 64×48 |") < markdown.index("| walk.mp4 | validation | 64×48 |")
    assert "not in this run: absent.mp4" in markdown


def test_no_split_without_a_validation_clip_in_the_run(vnn, clips, split_clips, tmp_path):
    # The default list names none of moving.mp4 and still.mp4; '' lists none at all (selfie.mp4 is
    # in the default list).
    for folder, extra in ((clips, ()), (split_clips, ("--validation", ""))):
        report, text = tmp_path / f"{folder.name}.json", tmp_path / f"{folder.name}.md"
        result = vnn("bench", folder, *QUICK, *extra, "--json", report, "--markdown", text)
        assert result.code == 0, result
        data = json.loads(report.read_text())
        assert data["split"] is None
        assert all(c["split"] is None for c in data["clips"]) and all(r["split"] is None for r in data["quality"])
        assert all(s["splits"] == {} for s in data["summary"])
        for shown in (result.out, text.read_text()):
            assert "tuning" not in shown and "validation" not in shown
        assert "| clip | size | blend | dup |" in text.read_text()
    assert "| selfie.mp4 | 64×48 |" in text.read_text()
