"""`vnn models`, `vnn devices`, `vnn config`: what is installed, what can run, what is set."""
from __future__ import annotations

import json

import click
from rich.table import Table

from ..core import huge_pages, registry

from ..core import plugins
from ..core.device import auto_device, available_devices
from ..core.model_api import FrameInterpolator
from ..core.settings import SECTIONS
from ..core.errors import VnnError
from ..core.presets import DEFAULT_PRESET, MEASURED, MEASURED_BY, PRESETS
from ..nn.weights import default_weights_path, read_card, weights_dir
from .common import command, pass_params, runtime_options, settings_for
from .render import console


def _parameter_count(cls: type[FrameInterpolator]) -> str:
    try:
        model = cls()
    except Exception as exc:  # a plugin's constructor is foreign code; show why it cannot be built
        return f"? ({type(exc).__name__})"
    count = sum(p.numel() for p in model.parameters())
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    if frozen:  # e.g. fusion: its own network, plus the RIFE weights it uses as they are
        return f"{count - frozen:,} (+{frozen:,} frozen)"
    return f"{count:,}" if count else "0"


def _provenance(cls: type[FrameInterpolator]) -> str:
    """Where the shipped weights come from and under which license, from their model card."""
    path = default_weights_path(cls)
    borrowed = cls.borrowed_weights
    if path is None and borrowed:  # it uses other models' weights as they are
        uses = []
        for name in borrowed:
            try:
                card = read_card(weights_dir() / f"{name}.safetensors")
                uses.append(f"uses {name} ({card.source.get('package', '?')}, {card.license or 'license ?'})")
            except VnnError:
                uses.append(f"uses {name} (missing)")
        return "; ".join(uses)
    if path is None or not path.exists():
        return ""
    try:
        card = read_card(path)
    except VnnError:
        return "card unreadable"
    if card.source:
        return f"{card.source.get('package', '?')}, {card.license or 'license ?'}"
    trained = card.training.get("data")
    if trained and card.training.get("frozen"):  # its own network, beside frozen imported ones
        return f"trained by vnn ({len(trained)} clips) on {', '.join(card.training['frozen'])}"
    return f"trained by vnn ({len(trained)} clips)" if trained else "vnn"


_SHORT_COLUMNS = ("name", "source", "any t")


def _weights_state(cls: type[FrameInterpolator]) -> str:
    path = default_weights_path(cls)
    if path is None:
        return "not needed"
    return str(path) if path.exists() else f"missing ({path.name})"


def _print_card(name: str) -> None:
    """One model's weights card: what they are, where they come from, the license, the scores."""
    path = default_weights_path(registry.get_model(name).factory)
    if path is None:
        console.print(f"{name}: needs no weights")
        return
    card = read_card(path)
    console.print(f"[bold]{name}[/bold]: {path}", highlight=False)
    console.print(f"sha256 {card.sha256}, vnn {card.vnn_version}, created {card.created}", highlight=False)
    console.print(f"parameters: {json.dumps(card.params)}", highlight=False)
    for title, value in (("source", card.source), ("training", card.training), ("metrics", card.metrics)):
        if value:
            console.print(f"[bold]{title}[/bold]: {json.dumps(value, indent=2)}", highlight=False)
    if card.license:
        console.print(f"[bold]license[/bold]: {card.license}\n{card.license_notice or ''}", highlight=False)


@command("models", "vnn models; vnn models rife (its weights' card)")
@click.argument("name", required=False)
@runtime_options
@pass_params
def models_command(params: dict) -> None:
    """List every registered model and loss, where it came from, and whether its weights are here;
    with NAME, show that model's weights card (source, license, training, scores)."""
    name = params.pop("name", None)
    runtime, _ = settings_for("models", params)
    failures = plugins.load_plugins(runtime.plugins, strict=False)
    if name is not None:
        _print_card(name)
        return
    table = Table(title="Models")
    for column in ("name", "source", "path", "any t", "weights", "weights from, license", "parameters"):
        # On a narrow terminal the short columns keep their width and the others fold onto more
        # lines: a path or a count is shown whole, never cut at an ellipsis.
        table.add_column(column, overflow="fold", no_wrap=column in _SHORT_COLUMNS)
    for name, entry in registry.list_models().items():
        cls = entry.factory
        table.add_row(name, entry.source, entry.origin, "yes" if cls.any_time else "0.5 only", _weights_state(cls),
                      _provenance(cls), _parameter_count(cls))
    console.print(table)
    presets = Table(title="Presets (--preset; default balanced)", caption=f"measured: {MEASURED_BY}")
    for column in ("preset", "model", "parameters", "PSNR tuning", "PSNR validation", "fps 1280×720"):
        presets.add_column(column, justify="right" if column.startswith(("PSNR", "fps")) else "left")
    for preset, (model, model_params) in PRESETS.items():
        measured = MEASURED[preset]
        presets.add_row(preset, model, json.dumps(model_params) if model_params else "", f"{measured.psnr_tuning:.2f}",
                        f"{measured.psnr_validation:.2f}", f"{measured.fps_720p:.2f}")
    console.print(presets)
    losses = Table(title="Losses")
    for column in ("name", "source", "path"):
        losses.add_column(column, overflow="fold", no_wrap=column in _SHORT_COLUMNS)
    for name, entry in registry.list_losses().items():
        losses.add_row(name, entry.source, entry.origin)
    console.print(losses)
    for failure in failures:
        console.print(f"[red]failed to load[/red] {failure.origin}: {failure.message}", highlight=False)


@command("devices", "vnn devices")
def devices_command() -> None:
    """List the devices torch can use here and the one `--device auto` picks."""
    table = Table(title="Devices")
    for column in ("device", "description", "memory"):
        table.add_column(column)
    for info in available_devices():
        table.add_row(info.name, info.description, f"{info.memory_gib:.1f} GiB" if info.memory_gib else "")
    console.print(table)
    console.print(f"auto picks: [bold]{auto_device()}[/bold]")
    console.print(f"memory: {huge_pages.describe()}", highlight=False)


@command("config", "vnn config --config vnn.toml")
@click.argument("section", required=False, type=click.Choice(sorted(SECTIONS)))
@runtime_options
@pass_params
def config_command(params: dict) -> None:
    """Print the merged settings (defaults < config file < VNN_* environment < flags) as JSON."""
    section = params.pop("section")
    names = [section] if section else sorted(SECTIONS)
    merged = {}
    for name in names:
        runtime, settings = settings_for(name, dict(params))
        merged.setdefault("runtime", runtime.model_dump(mode="json"))
        merged[name] = settings.model_dump(mode="json")
        if "preset" in merged[name] and merged[name]["preset"] is None and merged[name]["model"] is None:
            merged[name]["preset"] = DEFAULT_PRESET  # what runs when nothing is named, not null
    console.print_json(json.dumps(merged))


COMMANDS = [models_command, devices_command, config_command]
