"""What every command shares: the runtime options, settings merging, `--help` examples."""
from __future__ import annotations

import functools
import inspect
import json
import sys
from pathlib import Path
from typing import Any, Callable

import click

from ..core.settings import RuntimeSettings, resolve

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
# progress: the mode and the seconds between lines, as the command's settings have them
state = {"verbose": False, "progress": (RuntimeSettings().progress, RuntimeSettings().progress_interval)}


def runtime_options(command: Callable) -> Callable:
    """The options every command that runs a model shares; they land in `runtime` settings."""
    options = [
        click.option("--device", default=None, help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps."),
        click.option("--threads", type=int, default=None, help="CPU threads for torch."),
        click.option("--half/--no-half", default=None, help="fp16/bf16 on CUDA or MPS."),
        click.option("--plugins", "plugins", multiple=True, type=click.Path(path_type=Path),
                     help="Plugin file or folder to load (repeatable)."),
        click.option("--config", "config", type=click.Path(path_type=Path), default=None,
                     help="Settings file (default: ./vnn.toml, then the user's config dir)."),
        click.option("-v", "--verbose", is_flag=True, default=False, help="Show tracebacks on errors."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def progress_option(command: Callable) -> Callable:
    """`--progress` for the commands whose long loops show it (the mode lands in `runtime` settings)."""
    return click.option("--progress", type=click.Choice(["auto", "bar", "plain", "json", "none"]), default=None,
                        help="auto (default): a bar on a terminal, else a plain line every progress_interval "
                             "seconds (5; VNN_PROGRESS_INTERVAL); json: one JSON object a line; none.")(command)


def settings_for(command: str, params: dict[str, Any]):
    """Split click's params into the settings layers: `config` and `verbose` steer, the rest are values."""
    config = params.pop("config", None)
    if params.pop("verbose", False):
        state["verbose"] = True
    runtime, section = resolve(command, params, config)
    state["progress"] = (runtime.progress, runtime.progress_interval)
    return runtime, section


def exit_on(status: int) -> None:
    if status:
        sys.exit(status)


def command(name: str, example: str, **kwargs) -> Callable:
    """`click.command` with the example shown in `--help`."""

    def wrap(function: Callable) -> click.Command:
        # cleandoc first: the appended lines are not indented, which would stop click dedenting the rest.
        doc = inspect.cleandoc(function.__doc__ or "") + f"\n\n\b\nExample:\n  {example}\n"
        function.__doc__ = doc
        return click.command(name, context_settings=CONTEXT, **kwargs)(function)

    return wrap


def pass_params(function: Callable) -> Callable:
    @functools.wraps(function)
    def wrapper(**params):
        return function(params)

    return wrapper


def _parse_model_params(ctx, param, pairs) -> dict | None:
    """KEY=VALUE pairs (VALUE read as JSON where it parses, else a string) -> a dict; None if none."""
    if not pairs:
        return None
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"'{pair}' is not KEY=VALUE", param_hint="--model-param")
        try:
            params[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            params[key.strip()] = value
    return params


model_param_option = click.option(
    "--model-param", "model_params", multiple=True, callback=_parse_model_params,
    help="Model parameter KEY=VALUE (JSON value), over the preset's; repeatable (see `vnn models NAME`).")
