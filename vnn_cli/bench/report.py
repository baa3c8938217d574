"""What a benchmark leaves behind: a summary per method, JSON and CSV files, a PSNR-against-speed
plot and side-by-side crops of the frames the methods got most wrong. Every file is written under
a temporary name and renamed when complete.
"""
from __future__ import annotations

import csv
import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.atomic import atomic_file, atomic_folder
from ..core.errors import OutputError
from ..video.output_guard import check_output
from ..eval.metrics import PSNR_CAP
from ..video.images import write_image
from .quality import Score
from .results import BenchResult, ClipInfo, Example
from .splits import LABELS, SPLITS, TUNING, VALIDATION, not_found
from .speed import TARGET_SIZE


def check_examples_folder(folder: Path, overwrite: bool = False, inputs: tuple[Path, ...] = ()) -> None:
    """Refuse, before any work, a file, a folder holding a previous run's crops (unless `overwrite`)
    or one that holds an input (the folder is replaced whole)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"output {folder} is a file: example crops go into a folder")
    check_output(folder, overwrite, inputs)


def write_examples(folder: Path, examples: list[Example], overwrite: bool = False,
                   inputs: tuple[Path, ...] = ()) -> list[Path]:
    """The crops as FOLDER/<clip>_frame<N>.png: a new folder, or one that replaces the old whole."""
    check_examples_folder(folder, overwrite, inputs)
    with atomic_folder(Path(folder), replace=True) as temp:
        for example in examples:
            write_image(temp / example.filename, example.image)
    return [Path(folder) / e.filename for e in examples]


@dataclass
class SplitMean:
    """A method's quality on one split: the mean over its clips of each clip's mean."""

    psnr: float | None
    ssim: float | None
    clips_scored: int


@dataclass
class MethodSummary:
    method: str
    psnr: float | None  # mean over clips of each clip's mean
    ssim: float | None
    fps: float | None  # frames predicted per second over all clips
    fps_by_size: dict[str, float | None]
    peak_mib: float | None  # the most over clips and sizes
    clips_scored: int
    errors: list[str]
    splits: dict[str, SplitMean] = dataclasses.field(default_factory=dict)  # "tuning", "validation"; {}: no split


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def split_of(result: BenchResult) -> dict[str, str | None]:
    """Each clip's split by name; every value None when the run has no split."""
    return {clip.name: clip.split for clip in result.clips}


def has_split(result: BenchResult) -> bool:
    return any(clip.split for clip in result.clips)


def clips_by_split(result: BenchResult) -> list[tuple[str | None, list[ClipInfo]]]:
    """The clips grouped, tuning first, then validation; one group (None) when there is no split."""
    if not has_split(result):
        return [(None, list(result.clips))]
    groups = [(split, [c for c in result.clips if c.split == split]) for split in SPLITS]
    return [(split, clips) for split, clips in groups if clips]


def split_names(result: BenchResult) -> dict | None:
    """The clips of each split, and the listed validation names that matched no clip; None: no split."""
    if not has_split(result):
        return None
    names = {split: [c.name for c in result.clips if c.split == split] for split in SPLITS}
    names["not_found"] = not_found([c.name for c in result.clips], result.settings.get("validation") or [])
    return names


def summarize(result: BenchResult) -> list[MethodSummary]:
    summaries = []
    splits = split_of(result)
    for method in result.methods:
        scores = [s for s in result.scores if s.method == method.name]
        good = [s for s in scores if not s.error]
        speeds = [s for s in result.speeds if s.method == method.name]
        seconds = sum(s.seconds for s in good)
        peaks = [p for p in [*(s.peak_mib for s in good), *(s.peak_mib for s in speeds if not s.error)] if p is not None]
        errors = list(dict.fromkeys(
            [f"{s.clip}: {s.error}" for s in scores if s.error] + [f"{s.size}: {s.error}" for s in speeds if s.error]))
        summaries.append(MethodSummary(
            method=method.name,
            psnr=_mean([s.mean_psnr for s in good]),
            ssim=_mean([s.mean_ssim for s in good]),
            fps=sum(len(s.psnr) for s in good) / seconds if seconds > 0 else None,
            fps_by_size={s.size: s.fps for s in speeds},
            peak_mib=max(peaks) if peaks else None,
            clips_scored=len(good),
            errors=errors,
            splits={split: SplitMean(psnr=_mean([s.mean_psnr for s in good if splits.get(s.clip) == split]),
                                     ssim=_mean([s.mean_ssim for s in good if splits.get(s.clip) == split]),
                                     clips_scored=sum(1 for s in good if splits.get(s.clip) == split))
                    for split in SPLITS if has_split(result)},
        ))
    return summaries


def _clean(value: Any) -> Any:
    """JSON has no infinities or NaN: those become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _score_dict(score: Score, split: str | None) -> dict:
    return {"clip": score.clip, "split": split, "method": score.method, "psnr": score.mean_psnr, "ssim": score.mean_ssim,
            "fps": score.fps, "seconds": score.seconds, "peak_mib": score.peak_mib, "frames": len(score.psnr),
            "error": score.error, "psnr_per_frame": score.psnr, "ssim_per_frame": score.ssim}


def to_dict(result: BenchResult) -> dict:
    """Everything the run measured, as plain JSON-able data."""
    splits = split_of(result)
    data = {
        "machine": result.machine,
        "settings": result.settings,
        "psnr_cap": PSNR_CAP,
        "clips": [dataclasses.asdict(c) for c in result.clips],
        "methods": [dataclasses.asdict(m) for m in result.methods],
        "skipped_methods": result.skipped,
        "summary": [dataclasses.asdict(s) for s in summarize(result)],
        "split": split_names(result),
        "quality": [_score_dict(s, splits.get(s.clip)) for s in result.scores],
        "speed": [dataclasses.asdict(s) for s in result.speeds],
        "end_to_end": dataclasses.asdict(result.end_to_end) if result.end_to_end else None,
        "end_to_end_note": result.e2e_note,
        "end_to_end_sizes": [dataclasses.asdict(e2e) for e2e in result.end_to_end_sizes],
        "targets": [dataclasses.asdict(t) for t in result.targets],
    }
    return _clean(data)


def write_json(path: Path, result: BenchResult) -> None:
    with atomic_file(Path(path)) as temp:
        temp.write_text(json.dumps(to_dict(result), indent=2, allow_nan=False) + "\n")


# New columns come last (the target columns, then the split), so readers of the older files find
# theirs where they were.
# What an end-to-end row's memory is (speed.Throughput.peak_mib): ffmpeg's whole process, vnn's growth.
E2E_PEAK_HEADING = "peak MiB (ffmpeg: its process; vnn: added by the job)"

CSV_FIELDS = ["kind", "method", "clip", "size", "psnr", "ssim", "fps", "seconds", "peak_mib", "frames", "error",
              "value", "required", "met", "split"]


def csv_rows(result: BenchResult) -> list[dict]:
    """One row per measurement: `quality` (method on a clip, with the clip's split), `speed`
    (method at a size), `end_to_end` (a way through the pipeline: its new frames per second),
    `summary` (method over all clips; when the run has a split, also one row per split, `split`
    set and `frames` its clips) and `target` (its ratio, the ratio required, met or not; why it
    was not measured)."""
    splits = split_of(result)
    rows = [{"kind": "quality", "method": s.method, "clip": s.clip, "psnr": s.mean_psnr, "ssim": s.mean_ssim,
             "fps": s.fps, "seconds": s.seconds, "peak_mib": s.peak_mib, "frames": len(s.psnr), "error": s.error,
             "split": splits.get(s.clip)}
            for s in result.scores]
    rows += [{"kind": "speed", "method": s.method, "size": s.size, "fps": s.fps, "seconds": s.seconds,
              "peak_mib": s.peak_mib, "frames": s.runs, "error": s.error} for s in result.speeds]
    for e2e in result.end_to_end_runs:
        rows += [{"kind": "end_to_end", "method": r.what, "clip": e2e.clip, "size": f"{e2e.width}x{e2e.height}",
                  "fps": r.interpolated_fps, "seconds": r.seconds, "peak_mib": r.peak_mib, "frames": r.output_frames,
                  "error": r.error}
                 for r in e2e.results]
    for s in summarize(result):
        rows.append({"kind": "summary", "method": s.method, "psnr": s.psnr, "ssim": s.ssim, "fps": s.fps,
                     "peak_mib": s.peak_mib, "frames": s.clips_scored, "error": "; ".join(s.errors) or None})
        rows += [{"kind": "summary", "method": s.method, "split": split, "psnr": mean.psnr, "ssim": mean.ssim,
                  "frames": mean.clips_scored} for split, mean in s.splits.items()]
    rows += [{"kind": "target", "method": t.name, "value": t.value, "required": t.required, "met": t.met,
              "error": t.note if t.met is None else None} for t in result.targets]
    return rows


def write_csv(path: Path, result: BenchResult) -> None:
    with atomic_file(Path(path)) as temp:
        with open(temp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
            writer.writeheader()
            for row in csv_rows(result):
                writer.writerow({k: ("" if v is None else v) for k, v in _clean(row).items()})


def plot_axis(result: BenchResult) -> tuple[str, dict[str, float]]:
    """The speed each method is plotted at: 1280x720 if measured, else the first size, else the clips."""
    summaries = summarize(result)
    sizes = list(dict.fromkeys(s.size for s in result.speeds))
    for size in ([TARGET_SIZE] if TARGET_SIZE in sizes else []) + sizes:
        fps = {s.method: s.fps_by_size.get(size) for s in summaries if s.fps_by_size.get(size)}
        if fps:
            return f"frames per second at {size}", fps
    return "frames per second on the clips", {s.method: s.fps for s in summaries if s.fps}


def write_plot(path: Path, result: BenchResult) -> None:
    """PSNR (mean over clips) against speed, one labelled point per method; log-scaled speed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise OutputError("--plot needs matplotlib: pip install matplotlib") from None
    label, speeds = plot_axis(result)
    points = [(s.method, speeds[s.method], s.psnr) for s in summarize(result) if s.psnr is not None and s.method in speeds]
    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=120)
    for name, fps, quality in points:
        axes.scatter([fps], [quality], s=40)
        axes.annotate(name, (fps, quality), textcoords="offset points", xytext=(6, 4), fontsize=9)
    axes.set_xscale("log")
    axes.margins(x=0.2, y=0.1)  # room for the labels of the outermost points
    axes.set_xlabel(f"{label}, {result.machine['device']} (log scale)")
    axes.set_ylabel("PSNR, dB (drop-frame, mean over clips)")
    clips = sum(1 for c in result.clips if not c.error)
    axes.set_title(f"vnn bench: quality against speed ({clips} clips)", fontsize=10)
    axes.grid(True, which="both", alpha=0.3)
    if not points:
        axes.text(0.5, 0.5, "no method has both a PSNR and a speed", transform=axes.transAxes, ha="center")
    figure.tight_layout()
    with atomic_file(Path(path)) as temp:
        figure.savefig(temp, format="png")
    plt.close(figure)


def _cell(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    return f"{value:.0f}" if digits == 2 and value >= 100 and value != PSNR_CAP else f"{value:.{digits}f}"


def markdown(result: BenchResult) -> str:
    """The run as Markdown tables, for the README's "Results" section."""
    machine = result.machine
    sizes = list(dict.fromkeys(s.size for s in result.speeds))
    lines = [f"Machine: {machine['cpu']}, {machine['cpu_cores']} cores, device {machine['device']} "
             f"(torch {machine['torch_version']}, {machine['torch_threads']} threads); "
             f"commit `{machine['commit'] or '?'}`; {machine['date']}.", ""]
    header = ["method", "PSNR dB", "SSIM", "fps (clips)", *(f"fps {s}" for s in sizes), "peak MiB", "notes"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for s in summarize(result):
        note = s.errors[0] if s.errors else ""
        cells = [s.method, _cell(s.psnr), _cell(s.ssim, 4), _cell(s.fps), *(_cell(s.fps_by_size.get(z)) for z in sizes),
                 _cell(s.peak_mib, 0), note.replace("|", "/")]
        lines.append("| " + " | ".join(cells) + " |")
    lines += _split_markdown(result)
    methods = [m.name for m in result.methods]
    by_key = {(s.clip, s.method): s for s in result.scores}
    split = has_split(result)
    header = ["clip", *(["split"] if split else []), "size", *methods]
    lines += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, clips in clips_by_split(result):
        for clip in clips:
            cells = [_cell(by_key[(clip.name, m)].mean_psnr) if (clip.name, m) in by_key else "–" for m in methods]
            size = f"{clip.width}×{clip.height}" if clip.width else "–"
            lines.append("| " + " | ".join([clip.name, *([clip.split] if split else []), size, *cells]) + " |")
    for e2e in result.end_to_end_runs:
        lines += ["", f"End to end on {e2e.clip} ({e2e.width}×{e2e.height}), twice the frame rate:", "",
                  f"| how | frames in → out | seconds | new frames/s | frames written/s | {E2E_PEAK_HEADING} | notes |",
                  "|---|---|---|---|---|---|---|"]
        for run in e2e.results:
            lines.append(f"| {run.what} | {run.input_frames} → {run.output_frames} | {run.seconds:.2f} | "
                         f"{_cell(run.interpolated_fps)} | {_cell(run.output_fps)} | {_cell(run.peak_mib, 0)} | "
                         f"{run.notes.replace('|', '/')} |")
    lines.append("")
    for target in result.targets:
        verdict = {True: "met", False: "**not met**", None: "not measured"}[target.met]
        value = f"{target.value:.2f}" if target.value is not None else "–"
        lines.append(f"- {target.description} ≥ {target.required:g}: {value}, {verdict} ({target.note})")
    return "\n".join(lines) + "\n"


def _split_markdown(result: BenchResult) -> list[str]:
    """The mean PSNR and SSIM of each split per method, and over all clips; nothing without a split."""
    names = split_names(result)
    if names is None:
        return []
    counts = {split: len(names[split]) for split in SPLITS}
    lines = ["", f"Quality by split (drop-frame, mean over clips). Constants are chosen on the tuning clips "
                 f"({', '.join(names[TUNING]) or 'none'}) only; the validation clips "
                 f"({', '.join(names[VALIDATION]) or 'none'}) are never tuned on, only reported.", ""]
    header = ["method"]
    for split in SPLITS:
        header += [f"PSNR dB {LABELS[split]} ({counts[split]})", f"SSIM {split}"]
    header += [f"PSNR dB all ({len(result.clips)})", "SSIM all"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for s in summarize(result):
        cells = [s.method]
        for split in SPLITS:
            cells += [_cell(s.splits[split].psnr), _cell(s.splits[split].ssim, 4)]
        cells += [_cell(s.psnr), _cell(s.ssim, 4)]
        lines.append("| " + " | ".join(cells) + " |")
    if names["not_found"]:
        lines += ["", f"Listed as validation but not in this run: {', '.join(names['not_found'])}."]
    return lines


def write_markdown(path: Path, result: BenchResult) -> None:
    with atomic_file(Path(path)) as temp:
        temp.write_text(markdown(result))
