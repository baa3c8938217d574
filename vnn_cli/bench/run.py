"""`vnn bench` as a library call: every method on the same frames of every clip, then on fixed
sizes, then the whole pipeline on one clip, and the speed targets checked from those numbers.

A method that fails (missing weights, an exception in a plugin, ffmpeg refusing) is recorded with
its error where its numbers would be; the run goes on.
"""
from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
from pathlib import Path
from typing import Callable, Sequence

import torch

from .._version import __version__
from ..render.engine import Interpolator
from ..core.errors import UnknownNameError, VnnError, describe
from ..core.settings import parse_size
from ..safeguards.fallback import Guarded
from ..core.presets import DEFAULT_PRESET, PRESETS
from ..core.settings import DEFAULT_MODEL, BenchSettings, InterpolateSettings
from ..video.media import expand_inputs
from ..video.probe import probe
from ..video.reader import VideoReader
from ..nn.weights import load_model
from .examples import worst_examples
from .peers import BASELINES, MINTERPOLATE, Method, select_methods
from .quality import Clip, Score, load_clip, score_minterpolate, score_model
from .results import BenchResult, ClipInfo, EndToEnd, Example, Target
from .splits import label_clips
from .speed import MINTERPOLATE_E2E, TARGET_SIZE, Speed, end_to_end, minterpolate_speed, model_speed, preset_run

Progress = Callable[[int, int], None]
Status = Callable[[str], None]

# The speed targets vnn is held to (README): the default model (the `balanced` preset) at 1280x720
# at least as fast as minterpolate, and the whole pipeline against the model alone.
TARGET_VS_MINTERPOLATE = 1.0
TARGET_PIPELINE_SHARE = 0.8
# The same issue's targets end to end (decode, interpolate x2, encode, one run, on the clip nearest
# 1280x720): new frames per second of `vnn interpolate --preset P` against ffmpeg minterpolate's.
E2E_TARGETS = {"fast": 3.0, "balanced": 1.0}
# The presets `vnn interpolate` runs end to end unless the caller names others.
E2E_PRESETS = tuple(PRESETS)


def _git_commit() -> str | None:
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}{'+changes' if dirty else ''}" if commit else None


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(device: torch.device) -> dict:
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "commit": _git_commit(),
        "vnn_version": __version__,
        "torch_version": torch.__version__,
        "platform": platform.platform(),
        "cpu": _cpu_name(),
        "cpu_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
        "gpu": gpu,
    }


class _Steps:
    def __init__(self, total: int, progress: Progress | None, status: Status | None):
        self.done, self.total = 0, total
        self.progress, self.status = progress, status

    def begin(self, text: str) -> None:
        if self.status:
            self.status(text)

    def end(self) -> None:
        self.done += 1
        if self.progress:
            self.progress(self.done, self.total)


def _e2e_clip(clips: list[ClipInfo]) -> ClipInfo | None:
    """The moving clip nearest to 1280x720 in pixels: the size the pipeline target speaks of."""
    width, height = parse_size(TARGET_SIZE)
    usable = [c for c in clips if c.width and not c.static and not c.error]
    return min(usable, key=lambda c: abs(c.width * c.height - width * height), default=None)


def run_label(method: str) -> str:
    """The `vnn interpolate` command an end-to-end row of `method` stands for."""
    return preset_run(method) if method in PRESETS else f"vnn interpolate -m {method}"


# The default as a bench method: by its preset's name (what the README's run lists) or its model's.
DEFAULT_NAMES = (DEFAULT_PRESET, DEFAULT_MODEL)


def _e2e_model(preferred: str | None, ready: dict[str, Interpolator]) -> str | None:
    others = [name for name in ready if name not in BASELINES]
    for name in (preferred, *DEFAULT_NAMES, *others, "blend", *ready):
        if name in ready:
            return name
    return None


def _load_methods(methods: list[Method], device: torch.device, half: bool,
                  steps: _Steps) -> tuple[dict[str, Interpolator], dict[str, str]]:
    """The models that load, ready to run one pair at a time; and why the others cannot run."""
    ready: dict[str, Interpolator] = {}
    broken: dict[str, str] = {}
    for method in methods:
        steps.begin(f"loading {method.name}")
        if method.unavailable:
            broken[method.name] = method.unavailable
        elif method.kind in ("model", "guarded"):
            try:
                model = load_model(method.model_name, method.weights, dict(method.params), device)
                interpolator = Interpolator(model, device, half=half, batch_size=1)
                ready[method.name] = Guarded(interpolator) if method.kind == "guarded" else interpolator
            except Exception as exc:  # a plugin is foreign code: its failure is a result, not a crash
                broken[method.name] = describe(exc)
        steps.end()
    return ready, broken


def _score_clip(clip: Clip, methods: list[Method], ready: dict[str, Interpolator], broken: dict[str, str],
                keep: bool, steps: _Steps) -> list[Score]:
    scores = []
    for method in methods:
        steps.begin(f"{clip.name}: {method.name}")
        try:
            if method.name in broken:
                score = Score(clip.name, method.name, error=broken[method.name])
            elif method.kind == "ffmpeg":
                score = score_minterpolate(clip, keep=keep)
            else:
                score = score_model(ready[method.name], clip, method.name, keep=keep)
        except Exception as exc:  # reported in the table; the other methods still run
            score = Score(clip.name, method.name, error=describe(exc))
        scores.append(score)
        steps.end()
    return scores


def _measure_speed(method: Method, ready: dict[str, Interpolator], broken: dict[str, str], width: int, height: int,
                   runs: int) -> Speed:
    size = f"{width}x{height}"
    try:
        if method.name in broken:
            return Speed(method.name, size, error=broken[method.name])
        if method.kind == "ffmpeg":
            return minterpolate_speed(width, height, runs)
        return model_speed(ready[method.name], method.name, width, height, runs)
    except Exception as exc:
        return Speed(method.name, size, error=describe(exc))


def run_bench(inputs: list[Path], settings: BenchSettings, device: torch.device | str = "cpu", half: bool = False,
              *, want_examples: bool = False, progress: Progress | None = None,
              status: Status | None = None, e2e_presets: Sequence[str] | None = None) -> BenchResult:
    """Everything `vnn bench` measures. `progress(done, total)` counts steps (a method on a clip,
    at a size...); `status(text)` says what runs now. `e2e_presets`: the presets `vnn interpolate`
    runs end to end, beside the model and dup (None: `E2E_PRESETS`; empty: none)."""
    if e2e_presets is None:
        e2e_presets = settings.e2e_presets
    e2e_presets = E2E_PRESETS if e2e_presets is None else tuple(e2e_presets)
    for name in e2e_presets:  # before the minutes of scoring, not after
        if name not in PRESETS:
            raise UnknownNameError("preset", name, list(PRESETS))
    device = torch.device(device)
    paths = expand_inputs([Path(p) for p in inputs])
    methods, skipped = select_methods(settings.methods, settings.weights)
    sizes = [parse_size(s, "bench.sizes") for s in settings.sizes]
    steps = _Steps(len(methods) * (len(paths) + len(sizes) + 1) + (1 if settings.e2e else 0), progress, status)
    ready, broken = _load_methods(methods, device, half, steps)

    infos: list[ClipInfo] = []
    scores: list[Score] = []
    examples: list[Example] = []
    splits = label_clips([path.name for path in paths], settings.validation)
    for path in paths:
        info = ClipInfo(path.name, str(path), split=splits[path.name])
        infos.append(info)
        try:
            clip = load_clip(path, settings.frames, settings.start, settings.max_width)
        except VnnError as exc:
            info.error = str(exc)
            for method in methods:
                scores.append(Score(path.name, method.name, error=f"clip unusable: {exc}"))
                steps.end()
            continue
        info.width, info.height = clip.size
        info.frames, info.scored_frames, info.static = len(clip.frames), len(clip.triplets()), clip.static
        clip_scores = _score_clip(clip, methods, ready, broken, want_examples, steps)
        scores.extend(clip_scores)
        if want_examples:
            examples.extend(worst_examples(clip, clip_scores, focus=DEFAULT_MODEL, count=settings.examples_per_clip,
                                           crop=settings.crop))
            for score in clip_scores:
                score.predictions = None  # one clip's predictions in memory at a time

    speeds: list[Speed] = []
    for width, height in sizes:
        for method in methods:
            steps.begin(f"speed {width}x{height}: {method.name}")
            speeds.append(_measure_speed(method, ready, broken, width, height, settings.runs))
            steps.end()

    e2e, e2e_sizes, e2e_note = None, [], ""
    if settings.e2e:
        steps.begin("end to end: vnn interpolate and ffmpeg")
        e2e, e2e_sizes, e2e_note = _run_end_to_end(infos, scores, ready, settings, device, half, e2e_presets)
        steps.end()

    return BenchResult(
        machine=machine_info(device),
        settings=settings.model_dump(mode="json"),
        clips=infos,
        methods=methods,
        skipped=skipped,
        scores=scores,
        speeds=speeds,
        end_to_end=e2e,
        targets=check_targets(speeds, e2e),
        examples=examples,
        e2e_note=e2e_note,
        end_to_end_sizes=e2e_sizes,
    )


def _preset_models(presets: Sequence[str], ready: dict[str, Interpolator], settings: BenchSettings,
                   device: torch.device, half: bool) -> dict[str, Interpolator | str]:
    """Each preset's interpolator, as the bench already loaded it or loaded now; or why it cannot run."""
    methods, _ = select_methods(list(presets), settings.weights)
    loaded, broken = _load_methods([m for m in methods if m.name not in ready], device, half, _Steps(0, None, None))
    loaded.update({m.name: ready[m.name] for m in methods if m.name in ready})
    return {m.name: loaded[m.name] if m.name in loaded else broken[m.name] for m in methods}


def _as_command(loaded: Interpolator | str, device: torch.device, half: bool, batch_size: int) -> Interpolator | str:
    """The model as `vnn interpolate` runs it by default: `batch_size` pairs per model call (the
    bench scores one pair at a time), the rest as is. A reason it cannot run stays a reason."""
    if isinstance(loaded, str):
        return loaded
    return Interpolator(loaded.model, device, half=half, batch_size=batch_size)


def _run_end_to_end(clips: list[ClipInfo], scores: list[Score], ready: dict[str, Interpolator], settings: BenchSettings,
                    device: torch.device, half: bool, presets: Sequence[str]
                    ) -> tuple[EndToEnd | None, list[EndToEnd], str]:
    """The clip nearest 720p through every way end to end, at its own size and then scaled to each
    of `settings.e2e_sizes`; or why it could not run."""
    clip = _e2e_clip(clips)
    model = _e2e_model(settings.e2e_model, ready)
    if clip is None or model is None:
        return None, [], "end to end not run: " + ("no moving clip" if clip is None else "no model could run")
    names = [model, *(["dup"] if "dup" in ready and model != "dup" else [])]  # dup: the pipeline alone
    loaded: dict[str, Interpolator | str] = {run_label(name): ready[name] for name in names}
    loaded.update({preset_run(name): found for name, found in _preset_models(presets, ready, settings, device, half).items()})
    batch_size = InterpolateSettings().batch_size
    runs = {what: _as_command(found, device, half, batch_size) for what, found in loaded.items()}
    own = next((s.fps for s in scores if s.clip == clip.name and s.method == model and not s.error), None)
    fps = probe(Path(clip.path)).fps

    def convert(size: tuple[int, int] | None) -> EndToEnd:
        frames = []
        reader = VideoReader(Path(clip.path), start=settings.start or None, max_width=None if size else settings.max_width,
                             size=size)
        for frame in reader:
            frames.append(frame.copy())
            if len(frames) >= settings.e2e_frames:
                break
        if size is None:
            return EndToEnd(clip.name, clip.width, clip.height, model, own, end_to_end(frames, fps, runs))
        return EndToEnd(clip.name, reader.width, reader.height, model, None, end_to_end(frames, fps, runs))

    try:
        return convert(None), [convert(parse_size(size)) for size in settings.e2e_sizes], ""
    except Exception as exc:
        return None, [], f"end to end failed: {describe(exc)}"


def _speed_at(speeds: list[Speed], method: str, size: str) -> float | None:
    return next((s.fps for s in speeds if s.method == method and s.size == size and s.fps), None)


def _e2e_rate(e2e: EndToEnd, what: str) -> float | None:
    return next((r.interpolated_fps for r in e2e.results if r.what == what and r.interpolated_fps), None)


def _e2e_target(preset: str, required: float, e2e: EndToEnd | None) -> Target:
    """`vnn interpolate --preset P` against ffmpeg minterpolate, both whole jobs on the same frames."""
    ratio, note = None, "end to end not run"
    if e2e is not None:
        ours, theirs = _e2e_rate(e2e, preset_run(preset)), _e2e_rate(e2e, MINTERPOLATE_E2E)
        missing = [what for what, rate in ((preset_run(preset), ours), (MINTERPOLATE_E2E, theirs)) if not rate]
        if missing:
            note = f"no end-to-end rate for {', '.join(missing)}"
        else:
            ratio = ours / theirs
            note = f"{ours:.2f} vs {theirs:.2f} new frames/s on {e2e.clip} ({e2e.width}x{e2e.height})"
    return Target(
        f"e2e_{preset}_vs_minterpolate",
        f"vnn interpolate --preset {preset} end-to-end new frames/s / ffmpeg minterpolate's",
        ratio, required, None if ratio is None else ratio >= required, note,
    )


def check_targets(speeds: list[Speed], e2e: EndToEnd | None) -> list[Target]:
    """The default model against minterpolate at 1280x720, the pipeline against the model, and
    the fast and balanced presets against minterpolate end to end."""
    targets = []
    default = next((n for n in DEFAULT_NAMES if _speed_at(speeds, n, TARGET_SIZE)), DEFAULT_PRESET)
    ours, theirs = _speed_at(speeds, default, TARGET_SIZE), _speed_at(speeds, MINTERPOLATE, TARGET_SIZE)
    ratio = ours / theirs if ours and theirs else None
    missing = [n for n, v in ((default, ours), (MINTERPOLATE, theirs)) if not v]
    targets.append(Target(
        "speed_vs_minterpolate",
        f"{default} fps / minterpolate fps at {TARGET_SIZE}",
        ratio, TARGET_VS_MINTERPOLATE, None if ratio is None else ratio >= TARGET_VS_MINTERPOLATE,
        f"{ours:.2f} vs {theirs:.2f} fps" if ratio else f"no {TARGET_SIZE} speed for {', '.join(missing)}",
    ))
    share, note = None, "end to end not run"
    if e2e is not None:
        run = next((r for r in e2e.results if r.what == run_label(e2e.model)), None)
        if e2e.model not in DEFAULT_NAMES:
            note = f"the default ({DEFAULT_PRESET}) did not run; the pipeline ran {e2e.model}"
        elif run is None or not run.interpolated_fps or not e2e.model_fps:
            note = f"the pipeline failed: {run.error}" if run and run.error else "the model has no speed on this clip"
        else:
            # Only the frames the model made: copies at scene cuts cost the pipeline nothing and
            # would flatter it.
            made = run.interpolated_fps if run.model_frames is None else run.model_frames / run.seconds
            share = made / e2e.model_fps
            counted = "" if run.model_frames is None else f"; {run.model_frames} of {run.output_frames - run.input_frames} new frames by the model"
            note = (f"{made:.2f} vs {e2e.model_fps:.2f} model-made fps on {e2e.clip} "
                    f"({e2e.width}x{e2e.height}){counted}")
    targets.append(Target(
        "pipeline_share",
        "vnn interpolate end-to-end model-made fps / the default's own fps",
        share, TARGET_PIPELINE_SHARE, None if share is None else share >= TARGET_PIPELINE_SHARE, note,
    ))
    targets += [_e2e_target(preset, required, e2e) for preset, required in E2E_TARGETS.items()]
    return targets
