"""`vnn models`, `vnn devices`, `vnn config`: what is installed, what can run, what is set."""
from __future__ import annotations

import json

import click
from rich.table import Table

from .. import registry
from ..device import auto_device, available_devices
from ..model_api import FrameInterpolator
from ..settings import SECTIONS
from ..weights import default_weights_path
from .common import command, pass_params, runtime_options, settings_for
from .render import console


def _parameter_count(cls: type[FrameInterpolator]) -> str:
    try:
        model = cls()
    except Exception as exc:  # a plugin's constructor is foreign code; show why it cannot be built
        return f"? ({type(exc).__name__})"
    count = sum(p.numel() for p in model.parameters())
    return f"{count:,}" if count else "0"


def _weights_state(cls: type[FrameInterpolator]) -> str:
    path = default_weights_path(cls)
    if path is None:
        return "not needed"
    return str(path) if path.exists() else f"missing ({path.name})"


@command("models", "vnn models --plugins my_model.py")
@runtime_options
@pass_params
def models_command(params: dict) -> None:
    """List every registered model and loss, where it came from, and whether its weights are here."""
    runtime, _ = settings_for("models", params)
    failures = registry.load_plugins(runtime.plugins, strict=False)
    table = Table(title="Models")
    for column in ("name", "source", "path", "any t", "weights", "parameters"):
        table.add_column(column)
    for name, entry in registry.models().items():
        cls = entry.factory
        table.add_row(name, entry.source, entry.origin, "yes" if cls.any_time else "0.5 only", _weights_state(cls), _parameter_count(cls))
    console.print(table)
    losses = Table(title="Losses")
    for column in ("name", "source", "path"):
        losses.add_column(column)
    for name, entry in registry.losses().items():
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
    console.print_json(json.dumps(merged))


COMMANDS = [models_command, devices_command, config_command]
