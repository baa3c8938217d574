"""Validated settings for every command, merged from four layers:
defaults < config file < environment (`VNN_*`) < command-line flags.

The config file is TOML: runtime keys at the top (`device`, `threads`, `half`, `plugins`,
`progress`, `progress_interval`) and one table per command (`[interpolate]`, `[slowmo]`,
`[extract]`, `[train]`, `[bench]`), and `[cluster]` for `--cluster`. It is the first
of `--config FILE`, `./vnn.toml`, `$XDG_CONFIG_HOME/vnn/vnn.toml` (or `~/.config/vnn/vnn.toml`).
Environment: `VNN_DEVICE=cpu`, `VNN_PLUGINS=a.py:b.py`, `VNN_INTERPOLATE_FACTOR=4`, ...
A misspelled key or a bad value is an error that names the key, the value and where it came from.
"""
from __future__ import annotations

import difflib
import os
import re
import sys
import typing
import warnings
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, ValidationError

from .errors import SettingsError, VnnWarning
from .presets import DEFAULT_PRESET, PRESETS, Preset, resolve_model
from .timing import MAX_FACTOR, parse_rate

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_MODEL = PRESETS[DEFAULT_PRESET][0]  # what runs when nothing is named

# The scene-cut score above which a pair is a cut (`safeguards.scenes` says how 0.25 was chosen).
DEFAULT_SCENE_THRESHOLD = 0.25
DEVICE_SPEC = re.compile(r"auto|cpu|mps|cuda(:\d+)?")  # what --device accepts; `device` picks among them

def parse_size(text: str | None, setting: str = "size") -> tuple[int, int] | None:
    """'640x360' -> (640, 360); None stays None."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", str(text))
    if not match or int(match[1]) < 1 or int(match[2]) < 1:
        raise SettingsError(f"invalid setting {setting} = {text!r}: use WIDTHxHEIGHT, e.g. 640x360")
    return int(match[1]), int(match[2])


Rate = Annotated[Fraction, BeforeValidator(parse_rate), PlainSerializer(str, return_type=str)]


def _as_path(value: Any) -> Any:
    return Path(value) if isinstance(value, str) else value


# A path is written as a string in every layer: taken as one even where the config file's values
# are held to their own types (see `read_config`).
PathSetting = Annotated[Path, BeforeValidator(_as_path)]


def _device_spec(value: str) -> str:
    if not DEVICE_SPEC.fullmatch(value.strip().lower()):
        raise ValueError("use auto, cpu, cuda, cuda:N or mps")
    return value.strip().lower()


Device = Annotated[str, AfterValidator(_device_spec)]


def _frame_range(value: str) -> str:
    """'1000-1999': input frames numbered from 0, both ends included (a range run; see render/ranges.py)."""
    match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", value)
    if not match:
        raise ValueError("use FIRST-LAST, input frames numbered from 0, e.g. 1000-1999")
    if int(match[2]) < int(match[1]):
        raise ValueError("the last frame comes before the first")
    return f"{int(match[1])}-{int(match[2])}"


FrameRangeText = Annotated[str, AfterValidator(_frame_range)]
ImageFormat = Literal["png", "tif", "tiff", "jpg", "jpeg", "bmp", "webp"]
# x264's and x265's speed presets (the only encoders given one): another name made ffmpeg fail after
# the first frames, with a message that never named it.
EncoderPreset = Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"]


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, arbitrary_types_allowed=True)


class RuntimeSettings(Settings):
    device: Device = "auto"
    threads: int | None = Field(None, ge=1, le=512)
    half: bool = False
    plugins: list[PathSetting] = []
    # How a long job shows its progress (see vnn_cli/cli/render.py): auto is a bar on a terminal,
    # plain lines every progress_interval seconds elsewhere (a log, a render farm, CI).
    progress: Literal["auto", "bar", "plain", "json", "none"] = "auto"
    progress_interval: float = Field(5.0, ge=0, le=3600)


class ModelChoice(Settings):
    model: str | None = None  # None: the preset's model
    preset: Preset | None = None  # fast | balanced | best (vnn_cli/presets.py); None: balanced
    weights: PathSetting | None = None
    model_params: dict[str, Any] = {}

    def resolved(self) -> tuple[str, dict[str, Any]]:
        """(model name, parameters) after the preset."""
        return resolve_model(self.model, self.preset, self.model_params)


class VideoOutput(Settings):
    codec: str | None = None  # None: the container's own (libx264 for mp4/mov/mkv, libvpx-vp9 for webm, gif)
    crf: int = Field(18, ge=0, le=51)
    encoder_preset: EncoderPreset = "medium"  # x264/x265 speed preset
    image_format: ImageFormat = "png"
    depth: Literal["source", "8"] = "source"  # bits per channel out: as the source, or 8 (plays everywhere)
    overwrite: bool = False


class WorkflowSettings(Settings):
    """Real-footage handling shared by `interpolate` and `slowmo` (see vnn_cli/render/stream.py)."""

    scene_threshold: float = Field(DEFAULT_SCENE_THRESHOLD, ge=0)
    dedup: bool = False
    dedup_threshold: float = Field(1.5, ge=0)
    fallback: Literal["auto", "never"] = "auto"
    scale: float = Field(1.0, gt=0, le=1)
    tile: int | None = Field(None, ge=0)
    tile_overlap: int = Field(64, ge=0)
    compare: PathSetting | None = None
    compare_layout: Literal["side", "stack"] = "side"
    start_number: int | None = Field(None, ge=0)
    deinterlace: bool = False  # an interlaced video's fields made into frames first (bwdif), else a warning
    frames: FrameRangeText | None = None  # a range run's input frames, "A-B": the part of the whole run they cover


class InterpolateSettings(ModelChoice, VideoOutput, WorkflowSettings):
    factor: int = Field(2, ge=2, le=MAX_FACTOR)
    fps: Rate | None = None
    times: list[Annotated[float, Field(gt=0, lt=1)]] = [0.5]
    image_fps: Rate | None = None  # None: the rate vnn recorded in the images, else 24
    batch_size: int = Field(4, ge=1, le=256)


def one_output_rate(section: InterpolateSettings, factor_flag: int | None, fps_flag: Any) -> InterpolateSettings:
    """`factor` and `fps` both set interpolate's output rate, so one must be chosen: on the command
    line (`factor_flag`, `fps_flag`: None when not given) one of them, never both, and it beats the
    other from the config file or the environment; from those alone, both are refused (which one
    was meant is not ours to guess). Returns `section` with the rate chosen."""
    if factor_flag is not None and fps_flag is not None:
        raise SettingsError("--factor and --fps both set the output rate: give one")
    if factor_flag is not None and section.fps is not None:
        section.fps = None
    elif fps_flag is None and "factor" in section.model_fields_set and section.fps is not None:
        raise SettingsError("factor and fps both set the output rate in the settings (vnn.toml or VNN_* "
                            "variables): keep one, or choose on the command line with --factor or --fps")
    return section


class SlowmoSettings(ModelChoice, VideoOutput, WorkflowSettings):
    factor: int = Field(2, ge=2, le=MAX_FACTOR)
    fps: Rate | None = None
    audio: Literal["drop", "stretch"] = "stretch"
    image_fps: Rate | None = None  # None: the rate vnn recorded in the images, else 24
    batch_size: int = Field(4, ge=1, le=256)


class ExtractSettings(Settings):
    every: int = Field(1, ge=1)
    start: float | None = Field(None, ge=0)
    end: float | None = Field(None, gt=0)
    resize: str | None = Field(None, pattern=r"^[1-9]\d*x[1-9]\d*$")  # WIDTHxHEIGHT
    audio: PathSetting | None = None
    triplets: bool = False
    crop: int = Field(256, ge=16, le=4096)
    stride: list[Annotated[int, Field(ge=1, le=16)]] = [1]
    crops_per_triplet: int = Field(1, ge=1, le=64)
    min_motion: float = Field(1.0, ge=0)
    # The same cut rule as interpolate's, so the hard, large-motion triplets a training set needs stay.
    scene_threshold: float = Field(DEFAULT_SCENE_THRESHOLD, ge=0)
    image_format: ImageFormat = "png"
    overwrite: bool = False
    seed: int = 0


class TrainSettings(ModelChoice):
    data: list[PathSetting] = []
    val: list[PathSetting] = []
    loss: str = "charbonnier"
    steps: int = Field(1000, ge=1)
    batch_size: int = Field(8, ge=1)
    crop: int = Field(128, ge=16)
    lr: float = Field(3e-4, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    warmup_steps: int = Field(100, ge=0)
    strides: list[Annotated[int, Field(ge=1, le=8)]] = [1, 2]
    min_motion: float = Field(1.0, ge=0)
    motion_crops: float = Field(0.0, ge=0, le=1)  # share of crops centred where the frames differ
    seed: int = 0
    checkpoint_every: int = Field(200, ge=1)
    val_every: int = Field(200, ge=1)
    val_frames: int = Field(9, ge=3)
    val_max_width: int = Field(640, ge=32)
    scene_threshold: float = Field(DEFAULT_SCENE_THRESHOLD, ge=0)
    run_dir: PathSetting = Path("runs/train")
    export: PathSetting | None = None  # write the best checkpoint here as weights + model card when done
    export_only: bool = False  # only export the run's best checkpoint, train nothing
    overwrite: bool = False  # let --export replace existing weights and their card
    minutes: float | None = Field(None, gt=0)  # stop (with a checkpoint) after this long; --resume continues
    resume: bool = False
    vgg_weights: PathSetting | None = None
    amp: bool = True


class BenchSettings(Settings):
    frames: int = Field(21, ge=3)
    start: float = Field(0.0, ge=0)
    max_width: int | None = Field(1280, ge=16)
    methods: list[str] | None = None  # None: every model that can run, and minterpolate
    sizes: list[Annotated[str, Field(pattern=r"^[1-9]\d*x[1-9]\d*$")]] = ["640x360", "1280x720", "1920x1080"]
    runs: int = Field(5, ge=1)  # timed runs per size, after one warm-up; the median is reported
    weights: dict[str, PathSetting] = {}  # model name -> weights file, instead of the shipped ones
    e2e: bool = True  # also time `vnn interpolate` end to end beside a plain ffmpeg decode + encode
    e2e_frames: int = Field(25, ge=3)  # input frames of the clip the end-to-end run converts
    e2e_model: str | None = None  # None: the default model if it can run
    e2e_presets: list[str] | None = None  # presets run end to end too (None: fast, balanced, best; []: none)
    # The end-to-end clip also scaled to each of these sizes, every row again ([]: its own size only).
    e2e_sizes: list[Annotated[str, Field(pattern=r"^[1-9]\d*x[1-9]\d*$")]] = []
    examples_per_clip: int = Field(1, ge=1, le=50)
    crop: int = Field(256, ge=16, le=4096)  # side of the example crops
    overwrite: bool = False  # replace a non-empty --examples folder instead of refusing
    # The clips only reported, never tuned on (file names or stems; vnn_cli/bench/splits.py); the
    # other clips of a run are the tuning split. []: no split.
    validation: list[Annotated[str, Field(pattern=r"^[^/\\]+$")]] = [
        "bbbtrailer.mp4", "selfie.mp4", "cubehand.mkv", "target.mkv"]


def _cluster_address(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"auto|local:\d+|(ray://)?[\w.\-]+:\d+", value.strip()):
        raise ValueError("use auto, ray://HOST:PORT or local:N")
    return value if value is None else value.strip()


class ClusterSettings(Settings):
    """`--cluster`: one job across a Ray cluster (vnn_cli/render/cluster.py); `vnn.toml`'s `[cluster]`."""

    # auto, ray://HOST:PORT or local:N (N workers started here); None: run here
    address: Annotated[str | None, AfterValidator(_cluster_address)] = None
    workers: int | None = Field(None, ge=1, le=4096)  # None: local:N's N, one per GPU with --device cuda, else one per node
    # input frames per range; None: one range per worker (each range reads the clip from its start)
    range_frames: int | None = Field(None, ge=2)


SECTIONS: dict[str, type[Settings]] = {
    "interpolate": InterpolateSettings,
    "slowmo": SlowmoSettings,
    "extract": ExtractSettings,
    "train": TrainSettings,
    "bench": BenchSettings,
    "cluster": ClusterSettings,
}


class ConfigFile(RuntimeSettings):
    interpolate: InterpolateSettings = InterpolateSettings()
    slowmo: SlowmoSettings = SlowmoSettings()
    extract: ExtractSettings = ExtractSettings()
    train: TrainSettings = TrainSettings()
    bench: BenchSettings = BenchSettings()
    cluster: ClusterSettings = ClusterSettings()


def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "vnn" / "vnn.toml"


def find_config(explicit: Path | None) -> Path | None:
    if explicit is not None:
        if not Path(explicit).is_file():
            raise SettingsError(f"config file {explicit} does not exist")
        return Path(explicit)
    for candidate in (Path("vnn.toml"), user_config_path()):
        if candidate.is_file():
            return candidate
    return None


def _first_error(exc: ValidationError, origins: dict[str, str], prefix: str = "") -> SettingsError:
    error = exc.errors()[0]
    key = ".".join(str(p) for p in error["loc"])
    top = str(error["loc"][0]) if error["loc"] else ""
    where = f" (from {origins[top]})" if top in origins else ""
    value = f" = {error['input']!r}" if error["type"] != "missing" and not isinstance(error["input"], dict) else ""
    message = error["msg"].replace("Extra inputs are not permitted", "unknown key").removeprefix("Value error, ")
    if error["type"] in ("int_type", "float_type", "bool_type") and isinstance(error["input"], (str, bool)):
        message += f", not {'a string' if isinstance(error['input'], str) else 'true or false'} (TOML has types: factor = 4)"
    return SettingsError(f"invalid setting {prefix}{key}{value}{where}: {message}")


def read_config(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(Path(path).read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
    # The whole file, so a typo in any table is caught, not only the command's; strictly, since TOML
    # has types: `factor = "4"` or `factor = true` is a mistake to name, not a value to convert
    # (the environment's values are all strings, and are converted).
    try:
        ConfigFile.model_validate(data, strict=True)
    except ValidationError as exc:
        raise _first_error(exc, {key: f"config {path}" for key in data}, prefix="") from None
    return data


def _is_list(model: type[Settings], key: str) -> bool:
    field = model.model_fields.get(key)
    return field is not None and typing.get_origin(field.annotation) is list or (
        field is not None and any(typing.get_origin(a) is list for a in typing.get_args(field.annotation))
    )


def _env_value(model: type[Settings], key: str, raw: str) -> Any:
    if key == "plugins":
        return [p for p in raw.split(os.pathsep) if p]
    if _is_list(model, key):
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


# VNN_* variables vnn reads that are not settings: each is read where it is used.
OTHER_VARIABLES = {"VNN_VGG_WEIGHTS", "VNN_CPU_BF16", "VNN_PROGRESS_INTERVAL"}


def setting_variables() -> set[str]:
    """Every VNN_* name that sets something: runtime keys, and each command's keys under its name."""
    names = {f"VNN_{key.upper()}" for key in RuntimeSettings.model_fields}
    for command, model in SECTIONS.items():
        names |= {f"VNN_{command.upper()}_{key.upper()}" for key in model.model_fields}
    return names | OTHER_VARIABLES


def check_environment(environ: dict[str, str]) -> None:
    """A VNN_* variable that sets nothing is refused, as a misspelled key in the config file is,
    where it is meant as a setting: under a command's name (VNN_INTERPOLATE_FACTR), or close to a
    setting's (VNN_DEVICES). Others (VNN_MYPLUGIN_LEVEL) are reported in one warning line each and
    left to the plugin or tool that may read them."""
    known = setting_variables()
    commands = {f"VNN_{command.upper()}_": command for command in SECTIONS}
    for name in sorted(environ):
        if not name.startswith("VNN_") or name in known:
            continue
        command = next((c for prefix, c in commands.items() if name.startswith(prefix)), None)
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.85 if command is None else 0.6)
        if close:
            raise SettingsError(f"environment variable {name} matches no setting; did you mean {close[0]}?")
        if command is not None:
            raise SettingsError(f"environment variable {name} matches no setting of {command} (see `vnn config {command}`)")
        warnings.warn(VnnWarning(f"environment variable {name} matches no vnn setting: vnn ignores it "
                                 "(a plugin may read it)"))


def env_layer(command: str | None, environ: dict[str, str] | None = None) -> dict[str, Any]:
    environ = dict(os.environ if environ is None else environ)
    layer: dict[str, Any] = {}
    for key in RuntimeSettings.model_fields:
        if f"VNN_{key.upper()}" in environ:
            layer[key] = _env_value(RuntimeSettings, key, environ[f"VNN_{key.upper()}"])
    if command in SECTIONS:
        model = SECTIONS[command]
        for key in model.model_fields:
            name = f"VNN_{command.upper()}_{key.upper()}"
            if name in environ:
                layer[key] = _env_value(model, key, environ[name])
    return layer


def resolve(command: str | None, flags: dict[str, Any], config: Path | None = None,
            environ: dict[str, str] | None = None, *, check_env: bool = True) -> tuple[RuntimeSettings, Settings | None]:
    """Merge the layers for `command` and validate them; flags left at None count as not given.
    `check_env`: report VNN_* variables that set nothing (once a command: a second section read
    for the same run passes False)."""
    layers: list[tuple[str, dict[str, Any]]] = []
    path = find_config(config)
    if path is not None:
        data = read_config(path)
        file_layer = {k: v for k, v in data.items() if k in RuntimeSettings.model_fields}
        if "plugins" in file_layer:  # relative to the file, so a user config works from any folder
            file_layer["plugins"] = [path.parent / Path(p).expanduser() for p in file_layer["plugins"]]
        file_layer.update(data.get(command, {}) if command else {})
        layers.append((f"config {path}", file_layer))
    if check_env:
        check_environment(dict(os.environ if environ is None else environ))
    layers.append(("environment", env_layer(command, environ)))
    layers.append(("command line", {k: v for k, v in flags.items() if v is not None and v != ()}))
    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for origin, layer in layers:
        for key, value in layer.items():
            merged[key] = list(value) if isinstance(value, tuple) else value
            origins[key] = f"--{key.replace('_', '-')}" if origin == "command line" else origin
    runtime_keys = set(RuntimeSettings.model_fields)
    try:  # runtime keys are top-level keys: their errors name no command
        runtime = RuntimeSettings.model_validate({k: v for k, v in merged.items() if k in runtime_keys})
    except ValidationError as exc:
        raise _first_error(exc, origins) from None
    section = None
    try:
        if command in SECTIONS:
            section = SECTIONS[command].model_validate({k: v for k, v in merged.items() if k not in runtime_keys})
    except ValidationError as exc:
        raise _first_error(exc, origins, prefix=f"{command}.") from None
    return runtime, section
