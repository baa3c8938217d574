"""Every error the library raises on purpose, and the exit status each one maps to.

The CLI catches `VnnError` in one place and prints `str(error)` as a single line; anything else is a
bug and keeps its traceback.
"""
from __future__ import annotations

import difflib
from enum import IntEnum
from typing import Iterable


class ExitStatus(IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    INTERRUPTED = 130  # 128 + SIGINT
    HANGUP = 129  # 128 + SIGHUP: the terminal or the ssh session went away
    TERMINATED = 143  # 128 + SIGTERM


class VnnError(Exception):
    """Base of every expected failure: bad input, bad settings, missing weights..."""

    exit_status = ExitStatus.FAILED


class SettingsError(VnnError):
    """A setting has a value that is not allowed (from flags, environment or a config file)."""

    exit_status = ExitStatus.USAGE


class InputError(VnnError):
    """An input file or folder cannot be used: missing, empty, corrupt, of the wrong kind."""


class OutputError(VnnError):
    """An output cannot be written: exists already, same as the input, read-only folder, disk full."""


class PluginError(VnnError):
    """A plugin failed to load, failed while running, returned frames that are not frames, or two
    plugins claim one name."""


class UnknownNameError(PluginError):
    """A model or loss name that no plugin registered."""

    def __init__(self, kind: str, name: str, known: Iterable[str]):
        known = sorted(known)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(known) or 'none'}"
        super().__init__(f"unknown {kind} '{name}'{hint}")
        self.name = name


class WeightsError(VnnError):
    """A weights file is missing, corrupt, or does not match its model card."""


class DeviceError(VnnError):
    """The device asked for is not available here."""


class VnnWarning(UserWarning):
    """Something the user should know that does not stop the run (`warnings.warn(VnnWarning(...))`);
    the CLI shows each as one `vnn: warning:` line on stderr."""


class PeerError(VnnError):
    """A peer method vnn is compared with (ffmpeg minterpolate) failed or gave unusable frames."""


class Interrupted(BaseException):
    """The run was stopped by a signal; partial outputs have been removed.

    A `BaseException`, as `KeyboardInterrupt` and `asyncio.CancelledError` are: the user stopping a
    run is no failure of the file, method or plugin at hand, so no `except Exception` (or
    `except VnnError`) on the way can swallow it; it reaches the CLI, which exits with its status.
    """

    def __init__(self, signal_name: str = "SIGINT", detail: str = ""):
        super().__init__(f"interrupted by {signal_name}" + (f"; {detail}" if detail else ""))
        self.signal_name = signal_name
        self.exit_status = {"SIGTERM": ExitStatus.TERMINATED, "SIGHUP": ExitStatus.HANGUP}.get(signal_name, ExitStatus.INTERRUPTED)


def describe(exc: BaseException) -> str:
    """One line for an error: a VnnError says what it is; anything else (a bug, foreign code) is its
    type and the first line of its message."""
    if isinstance(exc, VnnError):
        return str(exc)
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__
