"""Outputs appear whole or not at all: written under a temporary name in the same folder, renamed
into place when complete, removed on any failure (an exception, Ctrl-C, SIGTERM)."""
from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
from pathlib import Path
from typing import Iterator

from .errors import OutputError

TEMP_MARK = ".vnn-tmp"


def temp_name(final: Path) -> Path:
    # The suffix stays last so that ffmpeg and image writers still pick the format from it.
    return final.with_name(f".{final.stem}{TEMP_MARK}-{os.getpid()}{final.suffix}")


def final_name(path: Path) -> Path:
    """The name a temporary file will be renamed to (any other path as it is): for messages."""
    path = Path(path)
    match = re.fullmatch(rf"\.(.+){re.escape(TEMP_MARK)}-\d+(.*)", path.name)
    return path.with_name(match[1] + match[2]) if match else path


def check_writable(final: Path, overwrite: bool, inputs: tuple[Path, ...] = ()) -> None:
    """Refuse, before any work, an output that would clobber a file or an input."""
    for source in inputs:
        same = final.exists() and source.exists() and os.path.samefile(final, source)
        if same or final.resolve() == source.resolve():
            raise OutputError(f"output {final} is the input: choose another output")
    if final.exists() and not overwrite:
        raise OutputError(f"output {final} exists; use --overwrite to replace it")
    folder = _nearest_existing(final.parent)
    if not folder.is_dir():
        raise OutputError(f"cannot write {final}: {folder} is a file, not a folder")
    if _read_only(folder):
        raise OutputError(f"cannot write to {folder}: read-only file system")
    if not os.access(folder, os.W_OK):
        raise OutputError(f"cannot write to {folder}: permission denied")


def _nearest_existing(folder: Path) -> Path:
    """The folder itself, or the closest parent that exists (the one a mkdir would write into)."""
    folder = Path(os.path.abspath(folder))
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _read_only(folder: Path) -> bool:
    # os.access ignores a read-only mount for root; statvfs does not.
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def describe_os_error(exc: OSError, path: Path) -> OutputError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return OutputError(f"no space left on the device while writing {path}")
    if exc.errno == errno.EROFS:
        return OutputError(f"cannot write {path}: read-only file system")
    if exc.errno == errno.EFBIG:
        return OutputError(f"cannot write {path}: file too large for this file system or limit")
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
def atomic_folder(final: Path, replace: bool = False) -> Iterator[Path]:
    """Yield a temporary folder to fill; on success its files are moved into `final`, or with
    `replace` the new folder takes the place of the old one, whose files all go."""
    final = Path(final)
    temp = final.with_name(f".{final.name}{TEMP_MARK}-{os.getpid()}")
    try:
        temp.mkdir(parents=True, exist_ok=True)
        yield temp
        if not final.exists():
            os.rename(temp, final)  # the whole folder appears at once
        elif replace:
            _swap_folder(temp, final)
        else:  # --overwrite into an existing folder: each file replaced whole
            for item in sorted(temp.iterdir()):
                os.replace(item, final / item.name)
    except OSError as exc:
        raise describe_os_error(exc, final) from None
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _swap_folder(new: Path, final: Path) -> None:
    """Put `new` in the place of the folder `final`. A folder cannot be renamed over a non-empty one,
    so the old one steps aside first, comes back if the new one cannot move in, and goes after."""
    old = final.with_name(f".{final.name}{TEMP_MARK}-old-{os.getpid()}")
    os.rename(final, old)
    try:
        os.rename(new, final)
    except OSError:
        os.rename(old, final)
        raise
    shutil.rmtree(old, ignore_errors=True)
