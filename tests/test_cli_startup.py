"""`vnn --version` and `vnn --help` answer without importing torch, OpenCV or moviepy (each command's
module loads only when that command runs), and the help's summaries are the commands' own."""
from __future__ import annotations

import subprocess
import sys

import pytest

from vnn_cli.cli.app import COMMANDS, cli

HEAVY = ("torch", "cv2", "moviepy")

pytestmark = pytest.mark.slow  # subprocesses


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_startup_imports_no_heavy_library(args):
    probe = ("import sys; from vnn_cli.cli.app import main\n"
             "try:\n    main(%r)\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in %r if m in sys.modules))" % (args, HEAVY))
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "[]", run.stdout


def test_help_summaries_are_the_commands_own():
    import click

    context = click.Context(cli)
    for name, (_, summary) in COMMANDS.items():
        command = cli.get_command(context, name)
        assert command is not None and command.name == name
        assert command.get_short_help_str(limit=1000) == summary, name
