"""Outputs appear whole or not at all: written under a temporary name in the same folder, renamed
into place when complete, removed on any failure (an exception, Ctrl-C, SIGTERM)."""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
from pathlib import Path
from typing import Iterator

from .errors import OutputError

TEMP_MARK = ".vnn-tmp"


def temp_name(final: Path) -> Path:
    # The suffix stays last so that ffmpeg and image writers still pick the format from it.
    return final.with_name(f".{final.stem}{TEMP_MARK}-{os.getpid()}{final.suffix}")


def check_writable(final: Path, overwrite: bool, inputs: tuple[Path, ...] = ()) -> None:
    """Refuse, before any work, an output that would clobber a file or an input."""
    for source in inputs:
        same = final.exists() and source.exists() and os.path.samefile(final, source)
        if same or final.resolve() == source.resolve():
            raise OutputError(f"output {final} is the input: choose another output")
    if final.exists() and not overwrite:
        raise OutputError(f"output {final} exists; use --overwrite to replace it")
    folder = final.parent
    if folder.exists() and not os.access(folder, os.W_OK):
        raise OutputError(f"cannot write to {folder}: permission denied")


def describe_os_error(exc: OSError, path: Path) -> OutputError:
    if exc.errno == errno.ENOSPC:
        return OutputError(f"no space left on the device while writing {path}")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputError(f"cannot write {path}: permission denied")
    return OutputError(f"cannot write {path}: {exc.strerror or exc}")


@contextlib.contextmanager
def atomic_file(final: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `final`."""
    final = Path(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise describe_os_error(exc, final) from None
    temp = temp_name(final)
    try:
        yield temp
        os.replace(temp, final)
    except OSError as exc:
        raise describe_os_error(exc, final) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


@contextlib.contextmanager
def atomic_folder(final: Path) -> Iterator[Path]:
    """Yield a temporary folder to fill; on success its files are moved into `final`."""
    final = Path(final)
    temp = final.with_name(f".{final.name}{TEMP_MARK}-{os.getpid()}")
    try:
        temp.mkdir(parents=True, exist_ok=True)
        yield temp
        final.mkdir(parents=True, exist_ok=True)
        for item in sorted(temp.iterdir()):
            os.replace(item, final / item.name)
    except OSError as exc:
        raise describe_os_error(exc, final) from None
    finally:
        shutil.rmtree(temp, ignore_errors=True)
