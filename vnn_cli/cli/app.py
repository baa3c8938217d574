"""The `vnn` command: parses, prints, and turns library errors into one line and an exit status.
The work itself is done by the library.

Each command's module loads when that command runs, so `vnn --version` and `vnn --help` cost no
torch, OpenCV or moviepy."""
from __future__ import annotations

import errno
import importlib
import signal
import sys

import click

from .. import __version__
from ..core import huge_pages
from ..core.errors import ExitStatus, Interrupted, VnnError
from .common import CONTEXT, state
from .render import console_err, show_warnings_as_lines

# command -> (its module in vnn_cli.cli, the one-line summary `vnn --help` shows without loading it;
# a test holds each summary to its command's own)
COMMANDS = {
    "interpolate": ("video", "Raise the frame rate of videos or image sequences, or make the frames between two images."),
    "slowmo": ("video", "Make videos or image sequences N times slower by synthesizing the frames between."),
    "join": ("join", "Put together the parts of one run made with --frames, in order, into the whole run's output."),
    "extract": ("extract", "Take videos apart: frames as an image sequence, the audio as a file, or training triplets."),
    "train": ("train", "Train a model plugin on videos or triplet folders, validating on whole held-out videos."),
    "bench": ("bench", "Compare every model with dup, blend, ffmpeg minterpolate and DIS flow on the same frames."),
    "models": ("info", "List every registered model and loss, where it came from, and whether its weights are here; "
                       "with NAME, show that model's weights card (source, license, training, scores)."),
    "devices": ("info", "List the devices torch can use here and the one `--device auto` picks."),
    "config": ("info", "Print the merged settings (defaults < config file < VNN_* environment < flags) as JSON."),
}


class LazyGroup(click.Group):
    """Commands listed from `COMMANDS`, each module imported only when its command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f"{__package__}.{COMMANDS[name][0]}")
        return next(command for command in module.COMMANDS if command.name == name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        limit = formatter.width - 6 - max(map(len, COMMANDS))
        rows = [(name, click.utils.make_default_short_help(summary, limit)) for name, (_, summary) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="vnn")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks on errors.")
def cli(verbose: bool) -> None:
    """Neural video frame interpolation: smoother or slower video, frames between two images.

    \b
      vnn interpolate clip.mp4 --factor 2 -o smooth.mp4   # twice the frame rate, same duration
      vnn slowmo clip.mp4 --factor 4                      # four times slower
      vnn interpolate a.png b.png -o mid.png              # the frame between two images
    """
    if verbose:
        state["verbose"] = True


def _raise_on_signal(signum, frame) -> None:
    raise Interrupted(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> None:
    # SIGHUP (a closed terminal, a dropped ssh session) stops a run as SIGTERM does: cleanly, its
    # temporaries removed, rather than killing it where it stands and leaving them behind.
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _raise_on_signal)
    state["verbose"] = False  # a fresh run (tests call main() many times in one process)
    huge_pages.enable_for_this_process()  # before any command loads torch
    show_warnings_as_lines()
    try:
        cli.main(args=argv, prog_name="vnn", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:  # click turns Ctrl-C (KeyboardInterrupt) into Abort
        console_err.print("vnn: interrupted by SIGINT")
        sys.exit(ExitStatus.INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        console_err.print("vnn: interrupted by SIGINT; partial outputs removed")
        sys.exit(ExitStatus.INTERRUPTED)
    except Interrupted as exc:
        _fail(exc, exc.exit_status)
    except VnnError as exc:
        _fail(exc, exc.exit_status)
    except OSError as exc:
        # The machine refused (disk full, read-only, no permission) somewhere a library call did not
        # wrap: still one line. Any other OSError is a bug and keeps its traceback.
        if exc.errno not in _ENVIRONMENT_ERRNOS:
            raise
        _fail(f"{exc.filename or 'a file'}: {exc.strerror or exc}", ExitStatus.FAILED)
    sys.exit(0)


_ENVIRONMENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}


def _fail(exc: BaseException | str, status: int) -> None:
    if state["verbose"]:
        console_err.print_exception()
    console_err.print(f"vnn: error: {exc}", markup=False, highlight=False, soft_wrap=True)
    sys.exit(status)
