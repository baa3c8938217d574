"""`vnn bench`: parses the options, shows progress and prints the tables; the library does the work."""
from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from ..bench import run_bench, summarize, write_csv, write_examples, write_json, write_markdown, write_plot
from ..bench.report import E2E_PEAK_HEADING, check_examples_folder, clips_by_split, has_split, split_names
from ..bench.splits import LABELS
from ..video.output_guard import check_output
from ..render.pipeline import prepare_runtime
from .common import command, pass_params, progress_option, runtime_options, settings_for
from .render import console, console_err, step_progress


def _split(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip() and part.strip().lower() != "none"]


def _weights(pairs: tuple[str, ...]) -> dict[str, Path] | None:
    if not pairs:
        return None
    weights = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name or not path:
            raise click.BadParameter(f"'{pair}' is not NAME=FILE", param_hint="--weights")
        weights[name.strip()] = Path(path)
    return weights


def _number(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _fps(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if value >= 100 else f"{value:.2f}"


def _summary_table(result) -> Table:
    sizes = list(dict.fromkeys(s.size for s in result.speeds))
    table = Table(title=f"vnn bench: {sum(1 for c in result.clips if not c.error)} clips, "
                        f"{result.settings['frames']} frames each, {result.machine['device']}")
    table.add_column("method")
    table.add_column("PSNR dB", justify="right")
    table.add_column("SSIM", justify="right")
    table.add_column("fps clips", justify="right")
    for size in sizes:
        table.add_column(f"fps {size}", justify="right")
    table.add_column("peak MiB", justify="right")
    table.add_column("notes")
    for summary in summarize(result):
        note = Text(summary.errors[0] if summary.errors else "", style="red")
        if len(summary.errors) > 1:
            note.append(f" (+{len(summary.errors) - 1} more)")
        table.add_row(summary.method, _number(summary.psnr), _number(summary.ssim, 4), _fps(summary.fps),
                      *(_fps(summary.fps_by_size.get(size)) for size in sizes), _number(summary.peak_mib, 0), note)
    return table


def _clip_table(result) -> Table:
    """PSNR per clip and method; with a split, the clips grouped by it, each group closed by its
    mean PSNR and SSIM per method, and the mean over all clips last."""
    methods = [m.name for m in result.methods]
    split = has_split(result)
    table = Table(title="PSNR dB per clip (drop-frame)" + (", by split" if split else ""))
    table.add_column("clip")
    table.add_column("size")
    for name in methods:
        table.add_column(name, justify="right")
    by_key = {(s.clip, s.method): s for s in result.scores}
    summaries = summarize(result)
    for group, clips in clips_by_split(result):
        if group:
            count = f"{len(clips)} clip" + ("" if len(clips) == 1 else "s")
            table.add_row(Text(f"{LABELS[group]} ({count})", style="bold"), "", *("" for _ in methods))
        for clip in clips:
            size = f"{clip.width}x{clip.height}" if clip.width else ""
            cells = []
            for name in methods:
                score = by_key.get((clip.name, name))
                cells.append(Text("error", style="red") if score is None or score.error else Text(_number(score.mean_psnr)))
            table.add_row(clip.name + (" (static)" if clip.static else ""), size, *cells)
        if group:
            means = [s.splits[group] for s in summaries]
            table.add_row(Text(f"mean PSNR, {group}", style="italic"), "", *(_number(m.psnr) for m in means))
            table.add_row(Text(f"mean SSIM, {group}", style="italic"), "", *(_number(m.ssim, 4) for m in means),
                          end_section=True)
    if split:
        table.add_row(Text(f"mean PSNR, all ({len(result.clips)} clips)", style="bold"), "",
                      *(_number(s.psnr) for s in summaries))
        table.add_row(Text("mean SSIM, all", style="bold"), "", *(_number(s.ssim, 4) for s in summaries))
    return table


def _e2e_table(e2e) -> Table:
    table = Table(title=f"End to end on {e2e.clip} ({e2e.width}x{e2e.height}), twice the frame rate")
    for column in ("how", "frames in → out", "seconds", "new frames/s", "frames written/s", E2E_PEAK_HEADING, "notes"):
        table.add_column(column, justify="left" if column in ("how", "notes") else "right")
    for run in e2e.results:
        table.add_row(run.what, f"{run.input_frames} → {run.output_frames}", f"{run.seconds:.2f}",
                      _fps(run.interpolated_fps), _fps(run.output_fps), _number(run.peak_mib, 0), run.notes)
    return table


_WRITERS = {"json_path": write_json, "csv_path": write_csv, "markdown_path": write_markdown, "plot_path": write_plot}


def _print(result) -> None:
    console.print(_summary_table(result))
    console.print(_clip_table(result))
    if result.end_to_end:
        console.print(_e2e_table(result.end_to_end))
        if result.end_to_end.model_fps:
            console.print(f"{result.end_to_end.model} alone on that clip: {_fps(result.end_to_end.model_fps)} fps")
        for e2e in result.end_to_end_sizes:
            console.print(_e2e_table(e2e))
    elif result.e2e_note:
        console.print(result.e2e_note)
    for target in result.targets:
        verdict = {True: "[green]met[/green]", False: "[red]not met[/red]", None: "[yellow]not measured[/yellow]"}[target.met]
        value = f"{target.value:.2f}" if target.value is not None else "-"
        console.print(f"target {target.description} ≥ {target.required:g}: {value} {verdict} ({target.note})",
                      highlight=False)
    names = split_names(result)
    if names and names["not_found"]:
        console.print(f"listed as validation but not in this run: {', '.join(names['not_found'])}", highlight=False)
    for note in result.skipped:
        console.print(f"left out: {note}", highlight=False)
    machine = result.machine
    console.print(f"{machine['cpu']}, {machine['cpu_cores']} cores, torch {machine['torch_version']} "
                  f"({machine['torch_threads']} threads), commit {machine['commit'] or '?'}, {machine['date']}",
                  highlight=False)


@command("bench", "vnn bench videos/ --sizes 1280x720 --json r.json --plot r.png")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--frames", type=int, default=None, help="Frames decoded per clip (default 21); every other one is predicted.")
@click.option("--start", type=float, default=None, help="Seconds into each clip to start at (default 0).")
@click.option("--max-width", type=int, default=None, help="Downscale wider clips to this width (default 1280).")
@click.option("--methods", default=None,
              help="Comma-separated models and/or 'minterpolate' (default: every model that can run, and minterpolate).")
@click.option("--validation", default=None,
              help="Comma-separated clips (file names or stems) never tuned on, only reported; the other clips are "
                   "the tuning split (default: bbbtrailer, selfie, cubehand, target; '' for no split).")
@click.option("--sizes", default=None,
              help="Synthetic frame sizes for speed (default 640x360,1280x720,1920x1080; 'none' for none).")
@click.option("--runs", type=int, default=None, help="Timed runs per size, after one warm-up; the median counts (default 5).")
@click.option("--weights", "weights", multiple=True, help="NAME=FILE: weights for a model instead of the shipped ones (repeatable).")
@click.option("--e2e/--no-e2e", default=None, help="Time vnn interpolate end to end beside ffmpeg (default on).")
@click.option("--e2e-frames", type=int, default=None, help="Input frames for the end-to-end run (default 25).")
@click.option("--e2e-model", default=None, help="Model for the end-to-end run (default: the default model).")
@click.option("--e2e-presets", default=None,
              help="Comma-separated presets also run end to end (default fast,balanced,best; 'none' for none).")
@click.option("--e2e-sizes", default=None,
              help="Also run end to end on that clip scaled to these sizes, e.g. 640x360,1920x1080 (default: its own size only).")
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None, help="Write every number to this JSON file.")
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), default=None, help="Write one row per measurement to this CSV file.")
@click.option("--markdown", "markdown_path", type=click.Path(path_type=Path), default=None,
              help="Write the tables as Markdown (the README's Results section).")
@click.option("--plot", "plot_path", type=click.Path(path_type=Path), default=None, help="Draw PSNR against frames per second to this PNG.")
@click.option("--examples", "examples_dir", type=click.Path(path_type=Path), default=None,
              help="Save side-by-side crops (real | each method) of each clip's worst frames to this folder.")
@click.option("--examples-per-clip", type=int, default=None, help="Worst frames saved per clip (default 1).")
@click.option("--crop", type=int, default=None, help="Side of the example crops in pixels (default 256).")
@click.option("--overwrite/--no-overwrite", default=None,
              help="Replace existing report files and a non-empty --examples folder, its old crops removed (default: refuse).")
@progress_option
@runtime_options
@pass_params
def bench_command(params: dict) -> None:
    """Compare every model with dup, blend, ffmpeg minterpolate and DIS flow on the same frames.

    Quality: from each clip K frames are decoded (exact repeats dropped), the even ones are the
    input and each odd one is predicted and scored (PSNR on RGB, capped at 100 dB, and SSIM).
    Speed: frames per second and peak memory on the clips and on synthetic frames of each
    --sizes, after a warm-up, median of --runs. Then `vnn interpolate` end to end on the clip
    nearest 720p beside a plain ffmpeg decode + encode of the same output (and, with --e2e-sizes,
    on that clip scaled to each size).

    The clips named by --validation are the validation split (never tuned on, only reported),
    the others the tuning split: quality is shown per split when a validation clip is in the run.
    """
    inputs = list(params.pop("inputs"))
    outputs = {key: params.pop(key) for key in (*_WRITERS, "examples_dir")}
    params["methods"] = _split(params["methods"])
    params["sizes"] = _split(params["sizes"])
    params["e2e_presets"] = _split(params["e2e_presets"])
    params["e2e_sizes"] = _split(params["e2e_sizes"])
    params["validation"] = _split(params["validation"])
    params["weights"] = _weights(params.pop("weights"))
    runtime, section = settings_for("bench", params)
    # Every output checked before minutes of benchmarking: none may be an input or replace a file unasked.
    read = (*inputs, *section.weights.values())
    for key in _WRITERS:
        if outputs[key]:
            check_output(outputs[key], section.overwrite, read)
    if outputs["examples_dir"]:
        check_examples_folder(outputs["examples_dir"], section.overwrite, read)
    device = prepare_runtime(runtime)
    with step_progress("bench") as (progress, status):
        result = run_bench(inputs, section, device, runtime.half, want_examples=outputs["examples_dir"] is not None,
                           progress=progress, status=status)
    _print(result)
    for key, write in _WRITERS.items():
        if outputs[key]:
            write(outputs[key], result)
            console_err.print(f"wrote {outputs[key]}")
    if outputs["examples_dir"]:
        written = write_examples(outputs["examples_dir"], result.examples, overwrite=section.overwrite, inputs=read)
        console_err.print(f"{len(written)} example crops in {outputs['examples_dir']}")


COMMANDS = [bench_command]
